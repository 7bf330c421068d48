// Bounded, isolated loading of model files (docs/formats.md "Untrusted files"): every load runs
// in a load host, a child process (load-host.ts), inside a worker thread with a V8 heap limit and
// a deadline. Past either limit the load is stopped and fails with GROVE_ERR_LOAD_TIMEOUT or
// GROVE_ERR_LOAD_MEMORY; a V8 fatal error ("invalid size", a heap limit hit while tearing a thread
// down) kills only the host, and the load fails with GROVE_ERR_LOAD_CRASHED. The process that
// asked keeps its pid, its event loop and the models it serves.
//
// The model comes back as its container bytes (the flat layout already is one buffer; the host
// checks it but builds no kernels over it, which would be thrown away): one copy over the IPC
// pipe into a fresh SharedArrayBuffer, which modelFromBuffer checks again in full
// (descriptor-checks.ts, trees/layout-checks.ts) before anything is built over it, since the host
// processed a hostile file. Hosts are kept between loads (a warm host starts a load in
// microseconds rather than the ~100 ms a new process and thread take) and replaced when they die.
import { type ChildProcess, fork } from 'node:child_process';
import { basename } from 'node:path';
import { GroveError, ModelFormatError } from '../../errors/grove-error.js';
import { builtSibling } from '../../runtime-path.js';
import { modelFromBuffer } from '../load.js';
import type { Model } from '../model.js';
import type { LoadReply, LoadRequest } from './load-messages.js';

export interface LoadLimits {
  /** A load still running after this long is stopped (--load-timeout, in seconds there). */
  timeoutMs: number;
  /** V8 heap of the load thread (--load-memory). */
  heapMb: number;
}

export const DEFAULT_LOAD_LIMITS: LoadLimits = { timeoutMs: 60_000, heapMb: 2048 };

export interface ModelLoaderOptions extends Partial<LoadLimits> {
  /** Loads running at once, one host process each (default 2: one hostile file does not queue the rest). */
  hosts?: number;
}

export interface LoadedModel {
  model: Model;
  buffer: SharedArrayBuffer;
  /** sha256 of the file's bytes, hex. */
  sha256: string;
}

export interface LoadFileOptions {
  /** The repository's name for the file (format detection); default its base name. */
  fileName?: string;
  /** Follow a symbolic link in the file's place (a user naming a file on the command line). */
  followLinks?: boolean;
}

interface Job {
  request: LoadRequest;
  resolve: (m: LoadedModel) => void;
  reject: (e: GroveError) => void;
}

interface Host {
  child: ChildProcess;
  job: Job | null;
  /** The end of the host's stderr: V8 writes its fatal errors there. */
  stderr: string;
  timer: NodeJS.Timeout | null;
}

/** Extra time the host gets past the deadline to stop its thread before it is killed itself. */
const GRACE_MS = 5000;

export class ModelLoader {
  readonly limits: LoadLimits;
  private readonly maxHosts: number;
  private readonly hosts = new Set<Host>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(opts: ModelLoaderOptions = {}) {
    this.limits = {
      timeoutMs: opts.timeoutMs ?? DEFAULT_LOAD_LIMITS.timeoutMs,
      heapMb: opts.heapMb ?? DEFAULT_LOAD_LIMITS.heapMb,
    };
    this.maxHosts = Math.max(1, opts.hosts ?? 2);
  }

  /** Loads `path` within the limits; rejects with a GroveError (its code says why). */
  load(path: string, opts: LoadFileOptions = {}): Promise<LoadedModel> {
    if (this.closed)
      return Promise.reject(new GroveError('the model loader is closed', 'GROVE_ERR_INTERNAL'));
    return new Promise<LoadedModel>((resolve, reject) => {
      const request: LoadRequest = {
        id: this.nextId++,
        path,
        fileName: opts.fileName ?? basename(path),
        followLinks: opts.followLinks === true,
        timeoutMs: this.limits.timeoutMs,
        heapMb: this.limits.heapMb,
      };
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  /** Starts a host now, so the first load does not wait for one. */
  warm(): void {
    if (!this.closed && this.hosts.size === 0) this.spawn();
  }

  /** Stops every host; loads still queued or running fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.reject(new GroveError('the model loader closed', 'GROVE_ERR_INTERNAL'));
    const exits = [...this.hosts].map(
      (h) =>
        new Promise<void>((resolve) => {
          if (h.child.exitCode !== null || h.child.signalCode !== null) return resolve();
          h.child.once('exit', () => resolve());
          h.child.ref(); // an idle host is unref'd: its exit must still be waited for
          h.child.kill('SIGKILL');
        }),
    );
    await Promise.all(exits);
  }

  private schedule(): void {
    while (this.queue.length > 0) {
      let host = [...this.hosts].find((h) => h.job === null);
      if (!host && this.hosts.size < this.maxHosts) host = this.spawn();
      if (!host) return;
      this.run(host, this.queue.shift()!);
    }
  }

  private spawn(): Host {
    const child = fork(builtSibling(import.meta.url, 'load-host.js'), [String(this.limits.heapMb)], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: [],
    });
    const host: Host = { child, job: null, stderr: '', timer: null };
    this.hosts.add(host);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      host.stderr = (host.stderr + s).slice(-8192);
    });
    child.on('message', (m: LoadReply) => this.answered(host, m));
    child.on('error', () => this.lost(host, null, null));
    child.on('exit', (code, signal) => this.lost(host, code, signal));
    this.idle(host);
    return host;
  }

  /** An idle host keeps no process alive (a CLI exits when it is done). */
  private idle(host: Host): void {
    host.child.unref();
    (host.child.channel as { unref?: () => void } | undefined)?.unref?.();
    (host.child.stderr as { unref?: () => void } | null)?.unref?.();
  }

  private run(host: Host, job: Job): void {
    host.job = job;
    host.stderr = '';
    // The host stops its thread at the deadline; this timer (which also keeps the process alive
    // while the load runs) kills the host if even that did not happen.
    host.timer = setTimeout(() => {
      this.finish(host)?.reject(
        new GroveError(
          `the load took longer than the ${job.request.timeoutMs / 1000} s deadline (--load-timeout)`,
          'GROVE_ERR_LOAD_TIMEOUT',
        ),
      );
      host.child.kill('SIGKILL');
    }, job.request.timeoutMs + GRACE_MS);
    host.child.send(job.request);
  }

  private finish(host: Host): Job | null {
    const job = host.job;
    host.job = null;
    if (host.timer) clearTimeout(host.timer);
    host.timer = null;
    return job;
  }

  private answered(host: Host, m: LoadReply): void {
    if (!host.job || m?.id !== host.job.request.id) return;
    const job = this.finish(host)!;
    if (!m.ok) job.reject(GroveError.fromWire(String(m.message), m.code));
    else {
      try {
        job.resolve(receive(m.bytes, m.sha256));
      } catch (err) {
        job.reject(
          err instanceof GroveError ? err : new ModelFormatError('the loaded model is not a valid container'),
        );
      }
    }
    this.schedule();
  }

  private lost(host: Host, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.hosts.delete(host)) return;
    const job = this.finish(host);
    if (job)
      job.reject(
        this.closed
          ? new GroveError('the model loader closed', 'GROVE_ERR_INTERNAL')
          : crashError(host.stderr, code, signal, job.request.heapMb),
      );
    if (!this.closed) this.schedule();
  }
}

/** The container the host sent, in fresh shared memory, checked again and built. */
function receive(bytes: unknown, sha256: unknown): LoadedModel {
  if (!(bytes instanceof Uint8Array) || typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256))
    throw new ModelFormatError('the load host answered with a malformed reply');
  const buffer = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  return { model: modelFromBuffer(buffer), buffer, sha256 };
}

/** Why a host died with a load in it, from its exit and V8's last words on stderr. */
function crashError(stderr: string, code: number | null, signal: string | null, heapMb: number): GroveError {
  if (/heap out of memory|Reached heap limit|allocation failed/i.test(stderr))
    return new GroveError(
      `the load needed more than the ${heapMb} MB heap limit (--load-memory)`,
      'GROVE_ERR_LOAD_MEMORY',
    );
  const fatal = /Fatal JavaScript [^\n]{0,120}|FATAL ERROR: [^\n]{0,120}|Fatal error in [^\n]{1,120}/.exec(
    stderr,
  );
  const how = signal ?? `exit code ${code}`;
  return new GroveError(
    `the process loading the model died (${how}${fatal ? `: ${fatal[0].trim()}` : ''}); nothing else was affected`,
    'GROVE_ERR_LOAD_CRASHED',
  );
}

/** Loads one file through a load host of its own, then stops it (the CLI's commands). */
export async function loadModelFileBounded(path: string, limits: Partial<LoadLimits> = {}): Promise<Model> {
  const loader = new ModelLoader({ ...limits, hosts: 1 });
  try {
    return (await loader.load(path, { followLinks: true })).model;
  } finally {
    await loader.close();
  }
}
