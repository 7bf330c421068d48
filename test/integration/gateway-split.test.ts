// grove serve on a repository with two versions: 90/10 shares, sticky users, a weight change that
// moves nobody off the version that grew, admin auth, `grove split`, persistence across restarts.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  inParallel,
  predict,
  type Serve,
  startServe,
  twoVersionRepository,
} from './gateway-harness.js';
import { ROOT, removeRepository } from './worker-harness.js';

const run = promisify(execFile);
const grovePath = join(ROOT, 'dist', 'cli', 'grove.js');
let repo: string;
let s: Serve;

beforeAll(async () => {
  repo = twoVersionRepository();
  s = await startServe(repo, ['--workers', '2']);
});
afterAll(async () => {
  await s?.stop();
  removeRepository(repo);
});

describe('grove serve: A/B splits', () => {
  it('admin needs the bearer token and is not on the public port', async () => {
    expect(s.token.length).toBeGreaterThan(20); // generated and printed: none was configured
    expect((await request(`${s.adminUrl}/admin/workers`)).statusCode).toBe(401);
    expect((await admin(s, 'GET', '/admin/workers', undefined, 'wrong')).status).toBe(401);
    expect(
      (await admin(s, 'PUT', '/admin/models/churn/split', { weights: { '1': 1 } }, 'wrong')).status,
    ).toBe(401);
    const pub = await request(`${s.url}/admin/workers`, { headers: { authorization: `Bearer ${s.token}` } });
    expect(pub.statusCode).toBe(404);
    await pub.body.dump();
    const w = await admin(s, 'GET', '/admin/workers');
    const workers = w.body.workers as {
      url: string;
      pid: number;
      healthy: boolean;
      versions: Record<string, string[]>;
      ejected: boolean;
      outstanding: number;
    }[];
    expect(workers).toHaveLength(2);
    for (const x of workers) {
      expect(x).toMatchObject({ healthy: true, ejected: false, versions: { churn: ['1', '2'] } });
      expect(x.pid).toBeGreaterThan(0);
    }
  });

  it('rejects invalid splits and changes nothing', async () => {
    expect(
      (await admin(s, 'PUT', '/admin/models/churn/split', { weights: { '1': 50, '3': 50 } })).status,
    ).toBe(400);
    expect(
      (await admin(s, 'PUT', '/admin/models/churn/split', { weights: { '1': -1, '2': 5 } })).status,
    ).toBe(400);
    expect((await admin(s, 'PUT', '/admin/models/churn/split', { weights: { '1': 0, '2': 0 } })).status).toBe(
      400,
    );
    expect((await admin(s, 'PUT', '/admin/models/churn/split', { weights: { __proto__: 1 } })).status).toBe(
      400,
    );
  });

  it('a 401 says where the token comes from', async () => {
    const r = await admin(s, 'GET', '/admin/splits', undefined, 'wrong');
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('GROVE_ERR_UNAUTHORIZED');
    expect(r.body.error).toContain('grove admin token:');
    expect(r.body.error).toContain('GROVE_ADMIN_TOKEN');
  });

  it('a split for a model no worker serves names the model, not its versions', async () => {
    const r = await admin(s, 'PUT', '/admin/models/nope/split', { weights: { '1': 90, '2': 10 } });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: "model 'nope' not found", code: 'GROVE_ERR_MODEL_NOT_FOUND' });
    const cli = await run(process.execPath, [
      grovePath,
      'split',
      'nope',
      '1=90',
      '--admin',
      s.adminUrl,
      '--token',
      s.token,
    ]).catch((e: { code: number; stderr: string }) => e);
    expect((cli as { code: number }).code).toBe(2);
    expect((cli as { stderr: string }).stderr).toBe(
      "grove split: the gateway refused: model 'nope' not found (GROVE_ERR_MODEL_NOT_FOUND)\n",
    );
  });

  it('grove split echoes the percentages relative weights come to', async () => {
    const split = (...a: string[]) =>
      run(process.execPath, [grovePath, 'split', 'churn', ...a, '--admin', s.adminUrl, '--token', s.token]);
    expect((await split('1=3', '2=1')).stdout).toBe(
      'churn: version 1 75%, version 2 25% (weights 3:1 are relative), not sticky\n',
    );
    expect((await split()).stdout).toBe(
      'churn: version 1 75%, version 2 25% (weights 3:1 are relative), not sticky\n',
    );
    expect(JSON.parse((await split('--json')).stdout)).toEqual({
      model: 'churn',
      weights: { '1': 3, '2': 1 },
    });
  });

  it('serves 90/10 within binomial tolerance', async () => {
    expect(
      (await admin(s, 'PUT', '/admin/models/churn/split', { weights: { '1': 90, '2': 10 } })).status,
    ).toBe(200);
    const n = 2000;
    const versions = await inParallel(n, 32, async () => {
      const r = await predict(s.url);
      expect(r.status).toBe(200);
      expect(r.body.model_version).toBe(r.version);
      return r.version;
    });
    const share2 = versions.filter((v) => v === '2').length / n;
    // sd of the share = sqrt(0.1 * 0.9 / 2000) = 0.0067; 4 sd.
    expect(Math.abs(share2 - 0.1)).toBeLessThan(4 * Math.sqrt(0.09 / n));
  });

  it('keeps sticky users on their version, and a weight change moves nobody off the version that grew', async () => {
    expect(
      (
        await admin(s, 'PUT', '/admin/models/churn/split', {
          weights: { '1': 90, '2': 10 },
          sticky: 'x-user-id',
        })
      ).status,
    ).toBe(200);
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    const first = await inParallel(users.length, 16, (i) =>
      predict(s.url, { 'x-user-id': users[i]! }).then((r) => r.version!),
    );
    const again = await inParallel(users.length, 16, (i) =>
      predict(s.url, { 'x-user-id': users[i]! }).then((r) => r.version!),
    );
    expect(again).toEqual(first);
    const on2 = first.filter((v) => v === '2').length;
    expect(on2).toBeGreaterThan(5);
    expect(on2).toBeLessThan(75);
    // 90/10 -> 60/40 with the `grove split` command.
    const cli = await run(process.execPath, [
      join(ROOT, 'dist', 'cli', 'grove.js'),
      'split',
      'churn',
      '1=60',
      '2=40',
      '--sticky',
      'x-user-id',
      '--admin',
      s.adminUrl,
      '--token',
      s.token,
    ]);
    expect(cli.stdout).toBe('churn: version 1 60%, version 2 40%, sticky on x-user-id\n');
    const after = await inParallel(users.length, 16, (i) =>
      predict(s.url, { 'x-user-id': users[i]! }).then((r) => r.version!),
    );
    let moved = 0;
    for (let i = 0; i < users.length; i++) {
      if (first[i] === '2') expect(after[i]).toBe('2');
      if (after[i] !== first[i]) {
        expect(after[i]).toBe('2');
        moved++;
      }
    }
    expect(moved).toBeGreaterThan(30);
  });

  it('persists the split across a restart', async () => {
    const before = await admin(s, 'GET', '/admin/models/churn/split');
    expect(before.body).toMatchObject({ weights: { '1': 60, '2': 40 } });
    // The generated token is in <state-dir>/admin-token for a shell to read, readable by its owner only.
    const tokenFile = join(repo, '.grove', 'admin-token');
    expect(readFileSync(tokenFile, 'utf8')).toBe(`${s.token}\n`);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(await s.stop()).toBe(0); // SIGTERM: graceful, exit 0
    expect(existsSync(tokenFile)).toBe(false);
    s = await startServe(repo, ['--workers', '1', '--admin-token', 'tok-123']);
    expect(existsSync(tokenFile)).toBe(false); // a token the user gave is not written anywhere
    expect((await admin(s, 'GET', '/admin/models/churn/split')).body).toMatchObject({
      weights: { '1': 60, '2': 40 },
      sticky: 'x-user-id',
    });
  });
});
