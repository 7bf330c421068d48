// Shared by the grove stream integration tests: the suite's hooks (a connection to a real
// nats-server from test/support/services.ts useNats, a model repository), the `grove stream`
// arguments they all use, starting `node dist/cli/grove.js stream` and waiting on its stdout and
// log lines (events, never the clock), collecting messages from subjects and reading streams back.
// Every test uses its own subject and stream names (the CI server is shared).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  connect,
  headers,
  type JetStreamManager,
  type JsMsg,
  type Msg,
  type NatsConnection,
  type PubAck,
} from 'nats';
import { afterAll, beforeAll } from 'vitest';
import { type Service, useNats } from '../support/services.js';
import { makeRepository, ROOT, removeRepository } from './worker-harness.js';

const CLI = join(ROOT, 'dist', 'cli', 'grove.js');

/** A name no other test (or earlier run against a shared server) uses: letters, digits, '_'. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export interface StreamSuite {
  readonly url: string;
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** The repository made from the suite's `models` (throws when the suite made none). */
  readonly repo: string;
}

/**
 * Registers a describe block's hooks: before all, start nats-server (useNats), connect to it and
 * make a repository of `models` (when given); after all, close the connection, remove the
 * repository, stop the server. The fields are read inside the tests, once the hooks ran.
 */
export function streamSuite(models?: Parameters<typeof makeRepository>[0]): StreamSuite {
  let svc: Service | null = null;
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager | undefined;
  let repo: string | undefined;
  beforeAll(async () => {
    svc = await useNats();
    if (svc === null) throw new Error('stream suite: nats-server is not available');
    if (models) repo = makeRepository(models);
    ({ nc, jsm } = await natsConnect(svc.url));
  });
  afterAll(async () => {
    await nc?.close();
    if (repo) removeRepository(repo);
    await svc?.stop();
  });
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`stream suite: no ${what} (read it inside a test)`);
    return v;
  };
  return {
    get url() {
      return ready(svc?.url, 'nats-server');
    },
    get nc() {
      return ready(nc, 'connection');
    },
    get jsm() {
      return ready(jsm, 'JetStream manager');
    },
    get repo() {
      return ready(repo, 'repository');
    },
  };
}

/**
 * `grove stream` arguments: model churn from `repo`, rows from `rows.<name>` (or `subject`),
 * results on `predictions.<name>`, durable consumer `<name>`; then `extra`.
 */
export function streamArgs(
  url: string,
  repo: string,
  name: string,
  extra: string[] = [],
  subject = `rows.${name}`,
): string[] {
  return [
    '--nats',
    url,
    '--models',
    repo,
    '--model',
    'churn',
    '--subject',
    subject,
    '--output-subject',
    `predictions.${name}`,
    '--durable',
    name,
    ...extra,
  ];
}

export interface StreamProcess {
  child: ChildProcess;
  metricsUrl: string | null;
  stderr(): string;
  /** Resolves when a stderr (pino) line matches. */
  waitForLog(re: RegExp): Promise<void>;
  /** Sends the signal and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startStream(args: string[]): Promise<StreamProcess> {
  const child = spawn(process.execPath, [CLI, 'stream', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const logWaiters: Array<{ re: RegExp; resolve: () => void }> = [];
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => {
    err += c;
    for (const w of [...logWaiters]) {
      if (w.re.test(err)) {
        logWaiters.splice(logWaiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: string) => {
      out += c;
      if (!/grove stream consuming/.test(out)) return;
      resolve({
        child,
        metricsUrl: /grove stream metrics on (\S+)/.exec(out)?.[1] ?? null,
        stderr: () => err,
        waitForLog: (re) =>
          re.test(err)
            ? Promise.resolve()
            : new Promise<void>((r, j) => {
                logWaiters.push({ re, resolve: r });
                void exited.then((code) =>
                  j(new Error(`grove stream exited (${code}) before ${re}: ${err}`)),
                );
              }),
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
    void exited.then((code) => reject(new Error(`grove stream exited with ${code}: ${err}`)));
  });
}

export async function natsConnect(url: string): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: url });
  return { nc, jsm: await nc.jetstreamManager() };
}

/** Publishes bodies with Nats-Msg-Id ids (null: no header) to a JetStream subject; returns the PubAcks. */
export async function publishRows(
  nc: NatsConnection,
  subject: string,
  rows: Array<{ id: string | null; body: string | Uint8Array }>,
): Promise<PubAck[]> {
  const js = nc.jetstream();
  const acks: PubAck[] = [];
  for (let i = 0; i < rows.length; i += 256) {
    const part = rows.slice(i, i + 256).map((r) => {
      const h = headers();
      if (r.id !== null) h.set('Nats-Msg-Id', r.id);
      return js.publish(subject, r.body, { headers: h });
    });
    acks.push(...(await Promise.all(part)));
  }
  return acks;
}

/** A result (`id`, `model`, `model_version`, `prediction`) or a dead letter (`id`, `code`, ...). */
export interface Body {
  id: string;
  model: string;
  model_version: string;
  prediction: number;
  code: string;
  error: string;
  source: string;
  position: string;
  deliveries: number;
}

/** Collects what arrives on a subject (core subscription) and resolves waits on counts. */
export class Collector {
  readonly messages: Msg[] = [];
  private waiters: Array<{ ok: () => boolean; resolve: () => void }> = [];
  constructor(nc: NatsConnection, subject: string) {
    nc.subscribe(subject, {
      callback: (_err, m) => {
        this.messages.push(m);
        this.waiters = this.waiters.filter((w) => {
          if (!w.ok()) return true;
          w.resolve();
          return false;
        });
      },
    });
  }
  /** JSON bodies received so far. */
  bodies(): Body[] {
    return this.messages.map((m) => JSON.parse(m.string()) as Body);
  }
  /** Resolves once `ok()` holds after some message (or now). */
  until(ok: () => boolean): Promise<void> {
    if (ok()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ok, resolve }));
  }
}

/**
 * The input stream sequences a durable consumer's processes acknowledged, read from the ack
 * subjects a Collector on `$JS.ACK.>` saw. An ack subject is `$JS.ACK.<stream>.<consumer>.
 * <delivered>.<stream seq>.<consumer seq>.<time>.<pending>`, or with `<domain>.<account hash>.`
 * before the stream and a random token after (the newer form; the nats client's parseInfo reads
 * both); a body of '' or '+ACK' is an acknowledgement (+NAK, +WPI and +TERM are not).
 */
export function ackedSequences(acks: Collector, durable: string): Set<number> {
  const seqs = new Set<number>();
  for (const m of acks.messages) {
    const body = m.string();
    if (body !== '' && body !== '+ACK') continue;
    const t = m.subject.split('.');
    const at = t.length === 9 ? 3 : 5;
    if (t[at] === durable) seqs.add(Number(t[at + 2]));
  }
  return seqs;
}

/** Every message a stream holds, read with an ordered consumer until its message count. */
export async function readStream(
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
): Promise<JsMsg[]> {
  const n = (await jsm.streams.info(stream)).state.messages;
  const out: JsMsg[] = [];
  if (n === 0) return out;
  const c = await nc.jetstream().consumers.get(stream);
  const it = await c.consume();
  for await (const m of it) {
    out.push(m);
    if (out.length === n) break;
  }
  return out;
}

/** The stream that captures a subject. */
export async function streamOf(jsm: JetStreamManager, subject: string): Promise<string> {
  return jsm.streams.find(subject);
}
