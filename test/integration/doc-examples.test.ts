// Every fenced shell example of README.md and docs/ runs as a new user would run it (docs/cli.md,
// "Examples in these pages are tested"): each page from a fresh copy of the repository, against a
// freshly started demo cluster (what `npm start` serves), its commands in order in one bash session
// (so `export` carries over), each one required to exit 0 and to print the output shown under it.
// What the test changes, and only this: the cluster listens on free ports, so `:8080` and `:8081` in
// a command or a shown output name the started ones and GROVE_URL / GROVE_ADMIN_URL point at them;
// `npx grove` and `grove` run this checkout's build. Blocks marked `# needs: <service>` in the page
// (a service the test does not start) are listed as skipped with that reason; a new page's
// unmarked examples are run like the rest.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtFile } from '../../shared/runtime-path.js';
import {
  type Command,
  docPages,
  type Example,
  outputMismatch,
  pageExamples,
} from '../support/doc-examples.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GROVE = builtFile('cli/grove.js');

/**
 * Commands a page shows that the test itself stands for, with why: the build it runs on, the
 * cluster it starts, the suite it is part of, the checks .ci/run makes before the suite.
 */
const PERFORMED: Record<string, string> = {
  'npm install': 'the test runs on the installed, built checkout',
  'npm ci': 'the test runs on the installed, built checkout',
  'npm start': 'the test starts the demo cluster for each page',
  'npm test': 'this test is part of it',
  'npm run typecheck': '.ci/run runs it',
  'npm run lint': '.ci/run runs it',
};

/** Big or not a user's: linked into each page's copy, never copied. */
const LINKED = new Set(['node_modules', 'dist', 'test', '.git']);

/** The command without a trailing comment, for the PERFORMED table. */
function bare(text: string): string {
  return text.replace(/\s+#.*$/, '').trim();
}

function needsCluster(examples: Example[]): boolean {
  return examples.some((e) =>
    e.commands.some((c) =>
      /localhost:|127\.0\.0\.1:|\bgrove (split|loadtest|jobs|models)\b|\$GROVE_/.test(c.text),
    ),
  );
}

/** A copy of the repository a page's commands may change freely. */
function freshCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'grove-doc-examples-'));
  for (const name of readdirSync(ROOT)) {
    if (name.startsWith('.vitest') || name === '.grove') continue;
    if (LINKED.has(name)) symlinkSync(join(ROOT, name), join(dir, name));
    else
      cpSync(join(ROOT, name), join(dir, name), {
        recursive: true,
        filter: (src) => !/[\\/]\.grove$/.test(src),
      });
  }
  // `npx grove` and `grove` are this checkout's build, as after `npm install` in a clone.
  const bin = join(dir, '.doc-bin');
  mkdirSync(bin);
  const grove = `#!/bin/sh\nexec "${process.execPath}" "${GROVE}" "$@"\n`;
  writeFileSync(join(bin, 'grove'), grove);
  writeFileSync(
    join(bin, 'npx'),
    `#!/bin/sh\nif [ "$1" = grove ]; then shift; exec "${process.execPath}" "${GROVE}" "$@"; fi\nexec npx "$@"\n`,
  );
  chmodSync(join(bin, 'grove'), 0o755);
  chmodSync(join(bin, 'npx'), 0o755);
  return dir;
}

interface Cluster {
  proc: ChildProcess;
  gateway: string;
  admin: string;
  exited: Promise<void>;
}

/** `npm start` on free ports in a page's copy; resolves once the gateway and its workers serve. */
function startCluster(dir: string): Promise<Cluster> {
  const proc = spawn(
    process.execPath,
    [
      GROVE,
      'serve',
      '--models',
      'models',
      '--port',
      '0',
      '--admin-port',
      '0',
      '--workers',
      '2',
      '--spares',
      '0',
    ],
    { cwd: dir, env: { ...process.env, GROVE_ADMIN_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    let gateway = '';
    let admin = '';
    let log = '';
    const onLine = (line: string): void => {
      log += `${line}\n`;
      gateway ||= /grove gateway listening on (\S+)/.exec(line)?.[1] ?? '';
      admin ||= /grove admin listening on (\S+)/.exec(line)?.[1] ?? '';
      if (/^grove workers:/.test(line) && gateway && admin) resolve({ proc, gateway, admin, exited });
    };
    createInterface({ input: proc.stdout! }).on('line', onLine);
    createInterface({ input: proc.stderr! }).on('line', onLine);
    proc.once('exit', (code) => reject(new Error(`grove serve exited (${code}) before serving:\n${log}`)));
  });
}

/** One bash session per page: commands run in order, `export` and `cd` carry over. */
class Session {
  private readonly bash: ChildProcess;
  private readonly waiting = new Map<number, (status: number) => void>();
  private n = 0;
  constructor(
    private readonly dir: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.bash = spawn('bash', ['--noprofile', '--norc'], {
      cwd: dir,
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.bash.stdout! }).on('line', (line) => {
      const m = /^@@doc-example (\d+) (\d+)$/.exec(line);
      if (m) this.waiting.get(Number(m[1]))?.(Number(m[2]));
    });
  }

  /** Runs one command; its stdin is empty, its stdout and stderr are kept apart. */
  run(text: string): Promise<{ status: number; stdout: string; stderr: string }> {
    const k = ++this.n;
    const out = join(this.dir, '.doc-out', `${k}.out`);
    const err = join(this.dir, '.doc-out', `${k}.err`);
    return new Promise((resolve) => {
      this.waiting.set(k, (status) =>
        resolve({ status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') }),
      );
      this.bash.stdin!.write(`{\n${text}\n} >'${out}' 2>'${err}' </dev/null; echo "@@doc-example ${k} $?"\n`);
    });
  }

  close(): Promise<void> {
    const done = new Promise<void>((r) => this.bash.once('exit', () => r()));
    this.bash.stdin!.end('exit 0\n');
    return done;
  }
}

function localise(text: string, cluster: Cluster | null): string {
  if (!cluster) return text;
  const port = (url: string) => new URL(url).port;
  return text
    .replace(/\b(localhost|127\.0\.0\.1):8080\b/g, `$1:${port(cluster.gateway)}`)
    .replace(/\b(localhost|127\.0\.0\.1):8081\b/g, `$1:${port(cluster.admin)}`);
}

for (const page of docPages(ROOT)) {
  const examples = pageExamples(ROOT, page);
  if (examples.length === 0) continue;
  describe(`${page}: shell examples`, () => {
    let dir = '';
    let cluster: Cluster | null = null;
    let session: Session | null = null;
    const runnable = examples.filter((e) => e.needs === null);

    beforeAll(async () => {
      if (runnable.length === 0) return;
      dir = freshCopy();
      mkdirSync(join(dir, '.doc-out'));
      if (needsCluster(runnable)) cluster = await startCluster(dir);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: `${join(dir, '.doc-bin')}:${process.env.PATH}`,
        NO_COLOR: '1',
      };
      for (const k of ['GROVE_ADMIN_TOKEN', 'GROVE_DEBUG', 'GROVE_URL', 'GROVE_ADMIN_URL']) delete env[k];
      if (cluster) {
        env.GROVE_URL = cluster.gateway;
        env.GROVE_ADMIN_URL = cluster.admin;
      }
      session = new Session(dir, env);
    }, 180_000);

    afterAll(async () => {
      await session?.close();
      if (cluster) {
        cluster.proc.kill('SIGTERM');
        await cluster.exited;
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    for (const example of examples) {
      const title = `${page}:${example.line}`;
      if (example.needs !== null) {
        it.skip(`${title} (needs ${example.needs})`, () => {});
        continue;
      }
      it(title, async () => {
        for (const command of example.commands) await check(command);
      }, 240_000);
    }

    async function check(command: Command): Promise<void> {
      const where = `${page}:${command.line}: ${command.text.split('\n')[0]}`;
      const performed = PERFORMED[bare(command.text)];
      if (performed !== undefined) return;
      const r = await session!.run(localise(command.text, cluster));
      expect(r.status, `${where}\nexit ${r.status}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`).toBe(0);
      if (command.shown.length === 0) return;
      const shown = command.shown.map((l) => localise(l, cluster));
      expect(outputMismatch(shown, r.stdout), `${where}\nstderr:\n${r.stderr}`).toBeNull();
    }
  });
}
