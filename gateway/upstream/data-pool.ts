// The gateway's connections to one worker for predict/infer calls: what nginx keeps per upstream
// (a cache of keep-alive connections, request bytes written as they are, answers framed and passed
// on). No HTTP client library: the request head and body go out in one writev, the answer is framed
// by response-parser.ts, nothing is re-encoded. Up to `maxConnections` connections; a call goes to
// an idle one, else a new one, else it is pipelined behind the least busy one (up to `pipelining`
// deep: the worker answers a connection's requests in order), else it waits in a bounded queue;
// past that it fails at once as Overloaded (the caller tries another worker or answers 503). Every
// call ends exactly once, in `answered` or `failed`, so a slot can never leak: a connection that
// dies fails its calls as Lost (they may be retried: predictions are pure), a call not answered
// within `timeoutMs` fails as Timeout and its connection is closed.
import { connect, type Socket } from 'node:net';
import { ResponseParser, type UpstreamResponse } from '../../shared/http/response-parser.js';

export enum Failure {
  /** The connection was refused: the process is gone. */
  Refused = 1,
  /** Connecting took too long, or the host is unreachable. */
  Unreachable = 2,
  /** The connection closed or broke before this call's answer (the call may not have run). */
  Lost = 3,
  /** No answer within the timeout. */
  Timeout = 4,
  /** The answer was not valid HTTP/1.1. */
  Protocol = 5,
  /** Every connection is full and the queue too: not sent. */
  Overloaded = 6,
  /** The pool is closing (the worker left routing): not sent. */
  Closed = 7,
}

export interface PoolCall {
  /** The request head (latin1, ending in CRLFCRLF) and body, written as they are. */
  readonly head: string;
  readonly body: Buffer | null;
  /** performance.now() when written (set by the pool). */
  sentAt: number;
  /** Already sent again once after its kept-alive connection broke (set by the pool). */
  resent: boolean;
  /** True when the call should no longer be sent (its client went away or its deadline passed). */
  abandoned(): boolean;
  answered(r: UpstreamResponse): void;
  failed(kind: Failure, detail: string): void;
}

export interface DataPoolOptions {
  maxConnections: number;
  pipelining: number;
  queueLimit: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Answers larger than this are a protocol error. */
  maxAnswerBytes: number;
}

export const DEFAULT_DATA_POOL: DataPoolOptions = {
  maxConnections: 16,
  pipelining: 8,
  queueLimit: 1024,
  timeoutMs: 10_000,
  connectTimeoutMs: 2000,
  maxAnswerBytes: 64 * 1024 * 1024,
};

/** Bodies up to this size go out with their head as one string (one chunk of the writev). */
const SMALL_BODY = 16 * 1024;
/** An idle connection is closed after this (the worker closes its own after 65 s). */
const IDLE_MS = 30_000;

class UpstreamConnection {
  readonly inflight: PoolCall[] = [];
  connected = false;
  dead = false;
  /** Answers this connection delivered: after one, it is a kept-alive connection. */
  answers = 0;
  private corked = false;
  private readonly socket: Socket;
  private readonly parser: ResponseParser;
  private errorCode = '';

  constructor(
    private readonly pool: DataPool,
    host: string,
    port: number,
  ) {
    const s = connect({ host, port, noDelay: true });
    this.socket = s;
    this.parser = new ResponseParser(
      pool.opts.maxAnswerBytes,
      (r) => this.onAnswer(r),
      (m) => this.kill(Failure.Protocol, m),
    );
    s.setTimeout(pool.opts.connectTimeoutMs);
    s.on('connect', () => {
      this.connected = true;
      s.setTimeout(IDLE_MS);
    });
    s.on('timeout', () => {
      if (!this.connected) this.kill(Failure.Unreachable, 'connect timeout');
      else if (this.inflight.length === 0) this.kill(Failure.Lost, 'idle');
    });
    s.on('data', (c: Buffer) => this.parser.feed(c));
    s.on('end', () => this.kill(Failure.Lost, 'closed by the worker'));
    s.on('error', (e: Error & { code?: string }) => {
      this.errorCode = e.code ?? e.message;
    });
    s.on('close', () => {
      const code = this.errorCode;
      if (!this.connected)
        this.kill(code === 'ECONNREFUSED' ? Failure.Refused : Failure.Unreachable, code || 'closed');
      else this.kill(Failure.Lost, code || 'closed');
    });
  }

  send(call: PoolCall): void {
    call.sentAt = performance.now();
    this.inflight.push(call);
    const s = this.socket;
    // Calls sent in one turn of the event loop leave in one writev (at the end of the turn), and
    // the worker reads them in one read and answers them in one write: a Node proxy pays per
    // syscall, so pipelining is what lets it cost per request what nginx costs.
    if (!this.corked) {
      this.corked = true;
      s.cork();
      setImmediate(uncork, this);
    }
    const b = call.body;
    if (b === null || b.length === 0) s.write(call.head, 'latin1');
    else if (b.length <= SMALL_BODY) s.write(call.head + b.toString('latin1'), 'latin1');
    else {
      s.write(call.head, 'latin1');
      s.write(b);
    }
  }

  flush(): void {
    this.corked = false;
    if (!this.dead) this.socket.uncork();
  }

  /** Fails the oldest call as Timeout (and the ones pipelined behind it as Lost) if it is overdue. */
  checkTimeout(now: number): void {
    const first = this.inflight[0];
    if (first !== undefined && now - first.sentAt > this.pool.opts.timeoutMs)
      this.kill(Failure.Timeout, 'timeout');
  }

  private onAnswer(r: UpstreamResponse): void {
    const call = this.inflight.shift();
    if (call === undefined) {
      this.kill(Failure.Protocol, 'an answer nobody asked for');
      return;
    }
    this.answers++;
    if (r.close) this.kill(Failure.Lost, 'closed by the worker after an answer');
    else this.pool.idle(this);
    call.answered(r);
  }

  /** Ends the connection; every call still on it fails (`kind` for the first, Lost for the rest). */
  kill(kind: Failure, detail: string): void {
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
    const calls = this.inflight.splice(0);
    this.pool.gone(this);
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i]!;
      const k = i === 0 || kind === Failure.Refused || kind === Failure.Unreachable ? kind : Failure.Lost;
      // A kept-alive connection that broke before answering may have been closed by the worker
      // as it sat idle (the race every HTTP client has): send the call once more, on a new
      // connection. If the worker is gone, that one is refused, which says so at once.
      if (kind === Failure.Lost && this.answers > 0 && !call.resent) {
        call.resent = true;
        this.pool.send(call);
      } else call.failed(k, detail);
    }
  }
}

function uncork(c: UpstreamConnection): void {
  c.flush();
}

/** Bodies this large may be many rows the worker predicts on its thread pool: they get a connection of their own when they can. */
const LARGE_BODY = 32 * 1024;

export class DataPool {
  private readonly conns: UpstreamConnection[] = [];
  private readonly queue: PoolCall[] = [];
  private sweeper: NodeJS.Timeout | null = null;
  private closing = false;
  private onClosed: (() => void) | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    readonly opts: DataPoolOptions = DEFAULT_DATA_POOL,
  ) {}

  /** Calls written and not yet answered. */
  get outstanding(): number {
    let n = 0;
    for (const c of this.conns) n += c.inflight.length;
    return n;
  }

  get queued(): number {
    return this.queue.length;
  }

  get connections(): number {
    return this.conns.length;
  }

  send(call: PoolCall): void {
    if (this.closing) {
      call.failed(Failure.Closed, 'pool closing');
      return;
    }
    // The least busy connection, pipelined up to `pipelining` deep before another is opened: the
    // worker answers a connection's requests in order, one at a time, and one-row predictions run
    // inline there anyway, so depth costs no parallelism, and it batches reads and writes on both
    // sides. A large body (many rows, maybe run on the worker's thread pool) would hold the ones
    // behind it, so it takes an idle connection, or a new one, when it can.
    let least: UpstreamConnection | null = null;
    for (let i = 0; i < this.conns.length; i++) {
      const c = this.conns[i]!;
      if (least === null || c.inflight.length < least.inflight.length) least = c;
    }
    const large = call.body !== null && call.body.length > LARGE_BODY;
    const room = least !== null && least.inflight.length < this.opts.pipelining;
    if (least !== null && (least.inflight.length === 0 || (room && !large))) {
      least.send(call);
      return;
    }
    if (this.conns.length < this.opts.maxConnections) {
      const c = new UpstreamConnection(this, this.host, this.port);
      this.conns.push(c);
      this.startSweeper();
      c.send(call);
      return;
    }
    if (room) {
      least!.send(call);
      return;
    }
    if (this.queue.length < this.opts.queueLimit) {
      this.queue.push(call);
      return;
    }
    call.failed(Failure.Overloaded, 'worker queue full');
  }

  /** A connection finished an answer: give it the next queued call. */
  idle(c: UpstreamConnection): void {
    while (this.queue.length > 0 && c.inflight.length < this.opts.pipelining) {
      const next = this.queue.shift()!;
      if (next.abandoned()) {
        next.failed(Failure.Closed, 'abandoned before it was sent');
        continue;
      }
      c.send(next);
    }
    if (this.closing && c.inflight.length === 0) c.kill(Failure.Closed, 'pool closed');
  }

  /** A connection died: drop it; queued calls get a new one. */
  gone(c: UpstreamConnection): void {
    const i = this.conns.indexOf(c);
    if (i >= 0) this.conns.splice(i, 1);
    if (this.conns.length === 0) {
      this.stopSweeper();
      if (this.closing) {
        this.onClosed?.();
        this.onClosed = null;
      }
    }
    // Re-dispatch after the failing calls have been handled (they may be retried here).
    if (this.queue.length > 0 && !this.closing) queueMicrotask(() => this.drainQueue());
  }

  private drainQueue(): void {
    const waiting = this.queue.splice(0);
    for (const call of waiting) {
      if (call.abandoned()) call.failed(Failure.Closed, 'abandoned before it was sent');
      else this.send(call);
    }
  }

  private startSweeper(): void {
    if (this.sweeper !== null) return;
    const every = Math.max(10, Math.min(1000, Math.floor(this.opts.timeoutMs / 4)));
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const c of this.conns.slice()) c.checkTimeout(now);
    }, every);
    this.sweeper.unref();
  }

  private stopSweeper(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  /** Stops taking calls; resolves when the calls in flight have ended (queued ones fail as Closed). */
  close(): Promise<void> {
    this.closing = true;
    for (const call of this.queue.splice(0)) call.failed(Failure.Closed, 'pool closed');
    for (const c of this.conns.slice()) if (c.inflight.length === 0) c.kill(Failure.Closed, 'pool closed');
    if (this.conns.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.onClosed = resolve;
    });
  }

  /** Ends every connection now; calls in flight fail as Lost. */
  destroy(): void {
    this.closing = true;
    for (const call of this.queue.splice(0)) call.failed(Failure.Closed, 'pool closed');
    for (const c of this.conns.slice()) c.kill(Failure.Lost, 'pool destroyed');
    this.onClosed?.();
    this.onClosed = null;
  }
}
