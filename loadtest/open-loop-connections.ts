// The connections an open-loop load generator sends on, built to cost the client as little as
// wrk's: plain sockets (TLS for https), opened before the clock starts, one request in flight per
// connection (HTTP/1.1 keep-alive, no pipelining), each request written as its head and its
// prebuilt body, and answers framed by shared/http/response-parser.ts. A request no connection can
// take yet waits in order; a connection that dies is replaced. An undici Pool measured its own
// lateness here (docs/load-testing.md): it opens connections on demand, so the first requests of a
// run waited for handshakes, and its per-request work on the client's one event loop put a tail
// of tens of ms on the first second at a few thousand requests/s against nginx answering a constant.
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ResponseParser, type UpstreamResponse } from '../shared/http/response-parser.js';

/** How a request ended: its answer, or why there was none. */
export type RequestDone = (answer: UpstreamResponse | null, failure: Failure | null) => void;

export interface Failure {
  /** No answer within the timeout (the connection is closed and replaced). */
  timeout: boolean;
  message: string;
}

export interface OpenLoopConnectionsOptions {
  /** http: or https: base URL. */
  url: URL;
  connections: number;
  /** A request unanswered this long after it was written fails as a timeout. */
  timeoutMs: number;
  /** An answer body larger than this is a protocol error (the connection is closed). */
  maxAnswer: number;
  /** https: trust these CAs instead of Node's (NODE_EXTRA_CA_CERTS still adds to the default). */
  ca?: string | Buffer;
}

/** A JSON POST's head up to its last header line: add more header lines, then the blank line. */
export function postHead(url: URL, path: string, contentLength: number): string {
  return `POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${contentLength}\r\n`;
}

interface Pending {
  head: string;
  body: Buffer;
  done: RequestDone;
}

export class OpenLoopConnections {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly waiting: Pending[] = [];
  private wHead = 0;
  private closed = false;
  private watchdog: NodeJS.Timeout | null = null;

  private constructor(readonly o: OpenLoopConnectionsOptions) {}

  /**
   * Opens `connections` connections and resolves once each has opened or failed (as wrk connects
   * before it measures); those that failed are tried again when requests need them.
   */
  static async open(o: OpenLoopConnectionsOptions): Promise<OpenLoopConnections> {
    if (o.connections < 1) throw new RangeError('at least one connection is needed');
    const c = new OpenLoopConnections(o);
    c.watchdog = setInterval(() => c.expire(), Math.min(1000, o.timeoutMs));
    c.watchdog.unref();
    await new Promise<void>((resolve) => {
      let left = o.connections;
      const one = () => {
        if (--left === 0) resolve();
      };
      for (let i = 0; i < o.connections; i++) c.openOne(one);
    });
    return c;
  }

  /** Connections open now. */
  get open(): number {
    let n = 0;
    for (const c of this.all) if (c.connected) n++;
    return n;
  }

  /** Sends a request (its head ends with the blank line) on an idle connection, or queues it. */
  send(head: string, body: Buffer, done: RequestDone): void {
    if (this.closed) {
      done(null, { timeout: false, message: 'the load run is over' });
      return;
    }
    const c = this.idle.pop();
    if (c !== undefined) {
      c.write(head, body, done);
      return;
    }
    this.waiting.push({ head, body, done });
    if (this.all.size < this.o.connections) this.openOne(null);
  }

  /** Closes every connection; requests still waiting or in flight fail. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const c of [...this.all]) c.die('the load run is over', false);
    this.failWaiting('the load run is over');
  }

  private openOne(onSettled: (() => void) | null): void {
    const c = new Connection(this, onSettled);
    this.all.add(c);
  }

  /** An open connection is free: it takes the oldest waiting request, or waits itself. */
  ready(c: Connection): void {
    if (this.closed) return;
    const p = this.nextWaiting();
    if (p !== undefined) c.write(p.head, p.body, p.done);
    else this.idle.push(c);
  }

  /** The oldest waiting request, taken off the queue (whose consumed front is dropped now and then). */
  private nextWaiting(): Pending | undefined {
    if (this.wHead === this.waiting.length) return undefined;
    const p = this.waiting[this.wHead]!;
    this.waiting[this.wHead++] = undefined as unknown as Pending;
    if (this.wHead === this.waiting.length) {
      this.waiting.length = 0;
      this.wHead = 0;
    } else if (this.wHead > 1024 && this.wHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.wHead);
      this.wHead = 0;
    }
    return p;
  }

  /** A connection is gone: an open one is replaced; one that never opened fails a waiting request. */
  gone(c: Connection, wasOpen: boolean, reason: string): void {
    this.all.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.closed) return;
    if (wasOpen) {
      this.openOne(null);
      return;
    }
    // As a client that connects per request: a refused connection fails the request that needed it,
    // and the next one waiting tries again.
    const p = this.nextWaiting();
    if (p === undefined) return;
    p.done(null, { timeout: false, message: reason });
    if (this.wHead < this.waiting.length && this.all.size < this.o.connections) this.openOne(null);
  }

  private failWaiting(message: string): void {
    for (let p = this.nextWaiting(); p !== undefined; p = this.nextWaiting())
      p.done(null, { timeout: false, message });
  }

  /** Fails what waited too long: an answer, or a connection that did not open. */
  private expire(): void {
    const now = performance.now();
    for (const c of [...this.all]) {
      if (c.overdue(now, this.o.timeoutMs)) c.die('timed out', true);
      else if (c.stuckOpening(now, this.o.timeoutMs)) c.die('connecting timed out', false);
    }
  }
}

class Connection {
  connected = false;
  private dead = false;
  private done: RequestDone | null = null;
  private sentAt = 0;
  private readonly openedAt = performance.now();
  private readonly socket: Socket;
  private readonly parser: ResponseParser;

  constructor(
    private readonly owner: OpenLoopConnections,
    private onSettled: (() => void) | null,
  ) {
    const u = owner.o.url;
    const host = u.hostname.replace(/^\[|\]$/g, '');
    this.parser = new ResponseParser(
      owner.o.maxAnswer,
      (r) => this.answered(r),
      (message) => this.die(message, false),
    );
    const tls = u.protocol === 'https:';
    const port = Number(u.port || (tls ? 443 : 80));
    // SNI carries a host name only (RFC 6066 3); an IP address is still checked against the certificate.
    this.socket = tls
      ? tlsConnect({
          host,
          port,
          ...(isIP(host) === 0 ? { servername: host } : {}),
          ...(owner.o.ca !== undefined ? { ca: owner.o.ca } : {}),
          ALPNProtocols: ['http/1.1'],
        })
      : netConnect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.once(tls ? 'secureConnect' : 'connect', () => {
      this.connected = true;
      this.settled();
      owner.ready(this);
    });
    this.socket.on('data', (b: Buffer) => this.parser.feed(b));
    this.socket.on('error', (err) => this.die(err.message, false));
    this.socket.on('close', () => this.die('the server closed the connection', false));
  }

  write(head: string, body: Buffer, done: RequestDone): void {
    this.done = done;
    this.sentAt = performance.now();
    this.socket.cork();
    this.socket.write(head, 'latin1');
    if (body.length > 0) this.socket.write(body);
    this.socket.uncork();
  }

  overdue(now: number, timeoutMs: number): boolean {
    return this.done !== null && now - this.sentAt > timeoutMs;
  }

  stuckOpening(now: number, timeoutMs: number): boolean {
    return !this.connected && now - this.openedAt > timeoutMs;
  }

  private answered(r: UpstreamResponse): void {
    const done = this.done;
    this.done = null;
    if (done === null) {
      // An answer nobody asked for: the connection is out of step.
      this.die('an answer arrived with no request', false);
      return;
    }
    done(r, null);
    if (r.close) this.die('the server closed the connection', false);
    else this.owner.ready(this);
  }

  die(message: string, timeout: boolean): void {
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
    this.settled();
    const done = this.done;
    this.done = null;
    done?.(null, { timeout, message });
    this.owner.gone(this, this.connected, message);
  }

  private settled(): void {
    const f = this.onSettled;
    this.onSettled = null;
    f?.();
  }
}
