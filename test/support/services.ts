// Real services for the tests that need them (PostgreSQL, NATS JetStream, Chromium), never mocks.
// Each finder uses, in order: the instance `.ci/run` started (GROVE_TEST_PG_URL, GROVE_TEST_NATS_URL),
// else a throw-away instance it starts itself from the installed binaries on a free port in a temp
// directory, else nothing: the caller then skips only its own tests, and `skipReason` says which
// Debian package to install. Instances a finder started are stopped by their `stop()`.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Service {
  url: string;
  stop(): Promise<void>;
}

/** A message for `describe.skipIf`, printed once so a developer knows what to install. */
export function skipReason(service: string, debianPackage: string): string {
  const msg = `${service} not found: its tests are skipped (install Debian's \`${debianPackage}\`)`;
  process.stderr.write(`[grove tests] ${msg}\n`);
  return msg;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function which(cmd: string, extraDirs: string[] = []): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...extraDirs]) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

function postgresBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'));
}

/** Resolves when the child prints a line matching `ready` (on stdout or stderr): the service's
 *  own readiness event, not a guess at how long it takes. */
function waitForLine(child: ChildProcess, ready: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-4096);
      if (ready.test(seen)) {
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited with code ${code}: ${seen}`)));
  });
}

/**
 * Whether usePostgres can give a server. Files decide with this whether their tests run, and
 * start the server in a beforeAll: a run whose filter (-t) skips every test of a file runs none of
 * its hooks, so a server started at import would never be stopped.
 */
export function postgresAvailable(): boolean {
  if (process.env.GROVE_TEST_PG_URL) return true;
  if (!which('initdb', postgresBinDirs()) || !which('postgres', postgresBinDirs())) return false;
  return process.getuid?.() !== 0 || spawnSync('id', ['-u', 'postgres']).status === 0;
}

/** Whether useNats can give a server (see postgresAvailable). */
export function natsAvailable(): boolean {
  return (
    Boolean(process.env.GROVE_TEST_NATS_URL) ||
    which('nats-server', ['/usr/sbin', '/usr/local/sbin']) !== null
  );
}

/** PostgreSQL: `postgres://grove@127.0.0.1:PORT/postgres` (trust auth on loopback), or null. */
export async function usePostgres(): Promise<Service | null> {
  const given = process.env.GROVE_TEST_PG_URL;
  if (given) return { url: given, stop: async () => {} };
  const initdb = which('initdb', postgresBinDirs());
  const postgres = which('postgres', postgresBinDirs());
  if (!initdb || !postgres) return null;
  const dir = mkdtempSync(join(tmpdir(), 'grove-pg-'));
  const data = join(dir, 'data');
  // initdb and postgres refuse to run as root: run them as the package's postgres user (setpriv
  // execs in place, so signals reach postgres itself).
  const asRoot = process.getuid?.() === 0;
  const runAs = (cmd: string, args: string[]) =>
    asRoot
      ? { cmd: 'setpriv', args: ['--reuid=postgres', '--regid=postgres', '--init-groups', cmd, ...args] }
      : { cmd, args };
  if (asRoot) {
    const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gw = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (pw.status !== 0) return null;
    chownSync(dir, Number(pw.stdout.trim()), Number(gw.stdout.trim()));
  }
  const init = runAs(initdb, ['-D', data, '-U', 'grove', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const r = spawnSync(init.cmd, init.args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr}`);
  const port = await freePort();
  const run = runAs(postgres, [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
  ]);
  const child = spawn(run.cmd, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(child, /ready to accept connections/, 'postgres');
  return {
    url: `postgres://grove@127.0.0.1:${port}/postgres`,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT'); // fast shutdown
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** NATS with JetStream: `nats://127.0.0.1:PORT`, or null. */
export async function useNats(): Promise<Service | null> {
  const given = process.env.GROVE_TEST_NATS_URL;
  if (given) return { url: given, stop: async () => {} };
  const bin = which('nats-server', ['/usr/sbin', '/usr/local/sbin']);
  if (!bin) return null;
  const dir = mkdtempSync(join(tmpdir(), 'grove-nats-'));
  const port = await freePort();
  const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForLine(child, /Server is ready/, 'nats-server');
  return {
    url: `nats://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Path of a Chromium binary (GROVE_TEST_CHROMIUM, else Debian's), or null. */
export function findChromium(): string | null {
  const given = process.env.GROVE_TEST_CHROMIUM;
  if (given && existsSync(given)) return given;
  for (const c of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (existsSync(c)) return c;
  }
  return null;
}

/** Path of a docker-compose binary (GROVE_TEST_DOCKER_COMPOSE, else the one on PATH), or null. */
export function findDockerCompose(): string | null {
  const given = process.env.GROVE_TEST_DOCKER_COMPOSE;
  if (given && existsSync(given)) return given;
  const r = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}
