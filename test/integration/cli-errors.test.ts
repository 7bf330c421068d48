// The one CLI error path (cli/cli-errors.ts) as a user meets it: a newcomer's ordinary mistakes
// (a folder for a model file, a missing file, a second `grove serve` on a busy port, `grove split`
// without a token) each give one coded line and exit 2, never a stack trace.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtFile } from '../../shared/runtime-path.js';

const GROVE = builtFile('cli/grove.js');
const ROOT = join(import.meta.dirname, '..', '..');
const MODEL_DIR = join(ROOT, 'models', 'churn', '1');
const ROWS = join(ROOT, 'loadtest', 'data', 'churn-rows.csv');
const tmp = mkdtempSync(join(tmpdir(), 'grove-cli-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function grove(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [GROVE, ...args],
      { env: { ...process.env, GROVE_ADMIN_TOKEN: '', ...env }, timeout: 60_000 },
      (err, _stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }),
    );
  });
}

/** One line, the command's name, a catalogue code, and no stack frame. */
function expectOneCodedLine(stderr: string, command: string, code: string): void {
  expect(stderr).toMatch(new RegExp(`^grove ${command}: .*\\(${code}\\)\\n$`));
  expect(stderr).not.toMatch(/\n\s+at /);
}

async function busyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server };
}

describe('grove commands report failures on one path', () => {
  it('a model folder given as --model names the model file inside it', async () => {
    const r = await grove(['predict', '--model', MODEL_DIR, '--input', ROWS]);
    expect(r.code).toBe(2);
    expectOneCodedLine(r.stderr, 'predict', 'GROVE_ERR_FILE');
    expect(r.stderr).toContain(join(MODEL_DIR, 'model.json'));
    expect(r.stderr).not.toContain('EISDIR');
  });

  it('predict, convert, profile, compare and export: a missing file is the same coded error, exit 2', async () => {
    const nope = join(tmp, 'nope.json');
    const runs: Array<[string, string[]]> = [
      ['predict', ['--model', nope, '--input', ROWS]],
      ['convert', ['--model', nope, '--output', join(tmp, 'x.grove')]],
      ['profile', ['--model', nope, '--data', ROWS]],
      ['compare', ['--model', nope, '--candidate', nope, '--data', ROWS]],
      ['export', ['--model', nope, '--output', join(tmp, 'x.mjs')]],
      ['bench', ['--model', nope, '--input', ROWS]],
    ];
    for (const [command, args] of runs) {
      const r = await grove([command, ...args]);
      expect(r.code, command).toBe(2);
      expectOneCodedLine(r.stderr, command, 'GROVE_ERR_FILE');
      expect(r.stderr).toContain(`--model '${nope}' does not exist`);
    }
    const data = await grove([
      'predict',
      '--model',
      join(MODEL_DIR, 'model.json'),
      '--input',
      join(tmp, 'rows.csv'),
    ]);
    expect(data.code).toBe(2);
    expect(data.stderr).toContain(`--input '${join(tmp, 'rows.csv')}' does not exist`);
  });

  it('a second grove serve on a busy port says the port is in use, no stack trace', async () => {
    const busy = await busyPort();
    try {
      const r = await grove([
        'serve',
        '--models',
        join(ROOT, 'models'),
        '--port',
        String(busy.port),
        '--admin-port',
        '0',
        '--workers',
        '1',
        // Its state (jobs database) goes to a temporary folder, not into the repository's models.
        '--state-dir',
        join(tmp, 'state'),
      ]);
      expect(r.code).toBe(2);
      expectOneCodedLine(r.stderr, 'serve', 'GROVE_ERR_LISTEN');
      expect(r.stderr).toContain(`127.0.0.1:${busy.port} is already in use`);
    } finally {
      busy.server.close();
    }
  });

  it('a worker on a busy port stops what it started and exits 2', async () => {
    const busy = await busyPort();
    try {
      const r = await grove([
        'worker',
        '--models',
        tmp,
        '--port',
        String(busy.port),
        '--log-level',
        'error',
        '--threads',
        '1',
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`127.0.0.1:${busy.port} is already in use`);
      expect(r.stderr).toMatch(/\(GROVE_ERR_LISTEN\)/);
    } finally {
      busy.server.close();
    }
  });

  it('grove split without a token sends nothing and says where the token comes from', async () => {
    let requests = 0;
    const admin = createHttpServer((_req, res) => {
      requests++;
      res.end('{}');
    });
    await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(admin.address() as { port: number }).port}`;
    try {
      const r = await grove(['split', 'churn', '1=90', '2=10', '--admin', url]);
      expect(r.code).toBe(2);
      expectOneCodedLine(r.stderr, 'split', 'GROVE_ERR_UNAUTHORIZED');
      expect(r.stderr).toContain('GROVE_ADMIN_TOKEN');
      expect(r.stderr).toContain('grove admin token:');
      expect(requests).toBe(0);
    } finally {
      admin.close();
    }
  });

  it('a reader that stops early (| head) ends grove predict quietly, status 0', async () => {
    // Enough rows that the output outgrows the pipe after the reader has gone.
    const [header, ...rows] = readFileSync(ROWS, 'utf8').trim().split('\n');
    const many = join(tmp, 'many-rows.csv');
    const body = rows.join('\n');
    writeFileSync(
      many,
      `${header}\n${Array.from({ length: Math.ceil(50_000 / rows.length) }, () => body).join('\n')}\n`,
    );
    const p = spawn(
      process.execPath,
      [GROVE, 'predict', '--model', join(MODEL_DIR, 'model.json'), '--input', many],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    p.stderr.on('data', (c) => (stderr += c));
    p.stdout.once('data', () => p.stdout.destroy());
    const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
