// `grove pull` as a process against an HTTP server the test runs: the verified file lands whole
// under its name; a wrong sha256, an oversized body (declared or streamed), an HTTP error and a
// stalled server leave the folder as it was; a file already in place is not downloaded again.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelFileOf, ROOT } from './worker-harness.js';

const CLI = join(ROOT, 'dist', 'cli', 'grove.js');
const MODEL = readFileSync(modelFileOf('xgboost/xgb-binary-100x4'));
const SHA = createHash('sha256').update(MODEL).digest('hex');
const LGB = readFileSync(modelFileOf('lightgbm/lgb-regression'));
const LGB_SHA = createHash('sha256').update(LGB).digest('hex');

let server: Server;
let base = '';
const hits = new Map<string, number>();
const auth: (string | undefined)[] = [];
const stalled: ServerResponse[] = [];
let dir = '';

function route(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url!, 'http://x').pathname;
  hits.set(path, (hits.get(path) ?? 0) + 1);
  if (path === '/churn/3/model.json') {
    auth.push(req.headers.authorization);
    res.writeHead(200, { 'content-length': MODEL.length }).end(MODEL);
  } else if (path === '/demand/1/model.txt') res.writeHead(200).end(LGB);
  else if (path === '/moved') res.writeHead(302, { location: '/churn/3/model.json' }).end();
  else if (path === '/chunked/model.json') {
    // No Content-Length: the size is only known while streaming.
    res.writeHead(200);
    res.write(MODEL);
    res.end(MODEL);
  } else if (path === '/stall/model.json') {
    res.writeHead(200, { 'content-length': MODEL.length });
    res.write(MODEL.subarray(0, 100));
    stalled.push(res);
  } else res.writeHead(404).end('no');
}

beforeAll(async () => {
  server = createServer(route);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const r of stalled) r.destroy();
  await new Promise((r) => server.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function grovePull(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, 'pull', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (err += c));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('grove pull', () => {
  it('writes the verified file under the URL name, then skips a second pull of the same bytes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'grove-pull-'));
    const to = join(dir, 'churn', '3');
    const r = await grovePull(
      ['--url', `${base}/churn/3/model.json?X-Signature=secret`, '--to', to, '--sha256', SHA],
      {
        GROVE_PULL_AUTHORIZATION: 'Bearer tok',
      },
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`wrote ${join(to, 'model.json')} (${MODEL.length} bytes`);
    expect(readdirSync(to)).toEqual(['model.json']);
    expect(readFileSync(join(to, 'model.json')).equals(MODEL)).toBe(true);
    expect(auth).toEqual(['Bearer tok']);

    const again = await grovePull([
      '--url',
      `${base}/churn/3/model.json`,
      '--to',
      to,
      '--sha256',
      SHA.toUpperCase(),
    ]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/already there/);
    expect(hits.get('/churn/3/model.json')).toBe(1);

    // A redirect is followed; --name picks the file name.
    const moved = await grovePull([
      '--url',
      `${base}/moved`,
      '--to',
      to,
      '--sha256',
      SHA,
      '--name',
      'model.bst',
    ]);
    expect(moved.code).toBe(0);
    expect(readFileSync(join(to, 'model.bst')).equals(MODEL)).toBe(true);
  });

  it('changes nothing on a wrong sha256, an oversized or failed download, or a stall', async () => {
    const to = mkdtempSync(join(tmpdir(), 'grove-pull-bad-'));
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    writeFileSync(join(to, 'model.json'), 'the old file');
    const cases: [string[], RegExp][] = [
      [['--url', `${base}/churn/3/model.json`, '--sha256', '0'.repeat(64)], /GROVE_ERR_PULL_CHECKSUM/],
      [
        ['--url', `${base}/churn/3/model.json`, '--sha256', SHA, '--max-bytes', String(MODEL.length - 1)],
        /GROVE_ERR_PULL_TOO_LARGE/,
      ],
      [
        ['--url', `${base}/chunked/model.json`, '--sha256', SHA, '--max-bytes', String(MODEL.length + 10)],
        /more than .*GROVE_ERR_PULL_TOO_LARGE/,
      ],
      [['--url', `${base}/nope/model.json`, '--sha256', SHA], /HTTP 404.*GROVE_ERR_PULL_FAILED/],
      [
        ['--url', `${base}/stall/model.json`, '--sha256', SHA, '--timeout', '500'],
        /500 ms.*GROVE_ERR_PULL_FAILED/,
      ],
      [
        ['--url', `http://127.0.0.1:${closedPort}/model.json`, '--sha256', SHA],
        /ECONNREFUSED.*GROVE_ERR_PULL_FAILED/,
      ],
    ];
    try {
      for (const [args, want] of cases) {
        const r = await grovePull([...args, '--to', to]);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.err, args.join(' ')).toMatch(want);
        expect(r.err).not.toMatch(/secret/);
        expect(readdirSync(to)).toEqual(['model.json']);
        expect(readFileSync(join(to, 'model.json'), 'utf8')).toBe('the old file');
      }
    } finally {
      rmSync(to, { recursive: true, force: true });
    }
  });

  it('--list pulls every DIR SHA256 URL line under --to, and refuses a DIR that leaves it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'grove-pull-list-'));
    try {
      const list = join(root, 'pull.list');
      writeFileSync(
        list,
        `# the repository\nchurn/1 ${SHA} ${base}/churn/3/model.json\n\n  demand/1  ${LGB_SHA}  ${base}/demand/1/model.txt\n`,
      );
      const to = join(root, 'models');
      const r = await grovePull(['--list', list, '--to', to]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(readFileSync(join(to, 'churn', '1', 'model.json')).equals(MODEL)).toBe(true);
      expect(readFileSync(join(to, 'demand', '1', 'model.txt')).equals(LGB)).toBe(true);
      for (const bad of [
        `../x ${SHA} ${base}/a/model.json`,
        `/etc ${SHA} ${base}/a/model.json`,
        `a ${SHA}`,
      ]) {
        writeFileSync(list, `${bad}\n`);
        const b = await grovePull(['--list', list, '--to', to]);
        expect(b.code, bad).toBe(2);
        expect(b.err).toMatch(/--list line 1/);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses what it cannot check or name (exit 2)', async () => {
    for (const args of [
      ['--url', `${base}/churn/3/model.json`, '--to', '/tmp/x'],
      ['--url', 'file:///etc/passwd', '--to', '/tmp/x', '--sha256', SHA],
      ['--url', `${base}/churn/3/model.json`, '--to', '/tmp/x', '--sha256', 'abc'],
      ['--url', `${base}/`, '--to', '/tmp/x', '--sha256', SHA],
      ['--url', `${base}/churn/3/model.json`, '--to', '/tmp/x', '--sha256', SHA, '--name', '../model.json'],
      ['--url', `${base}/churn/3/model.json`, '--to', '/tmp/x', '--sha256', SHA, '--max-bytes', '-1'],
    ]) {
      const r = await grovePull(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/usage: grove pull/);
    }
  });
});
