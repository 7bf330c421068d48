// A fast front for the prediction routes of the gateway and the worker. node:http costs more per
// request than the rest of the forward path together (IncomingMessage/ServerResponse objects,
// streams, header validation): for a gateway that must match nginx (docs/architecture.md, Targets) and a
// worker that must match a bare node:http server answering a constant, that is the budget. This front
// parses plain HTTP/1.1 requests itself (request line, headers, Content-Length body) and answers a
// POST to a predict/infer route with one socket write. Anything else on the connection (another
// route, chunked bodies, Expect, Upgrade, HTTP/1.0) hands the connection, with the bytes already
// read, to the node:http server (`server.emit('connection')`, as httpolyglot does), which then
// serves it for good. One request per connection is in flight at a time, so pipelined requests
// are answered in order.
import { type Server as HttpServer, type IncomingHttpHeaders, STATUS_CODES } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { Reply } from './reply.js';

/** What the front serves itself: POST requests with a Content-Length body already read. */
export interface FastHandler {
  /** Answers through `reply` (now or later) and returns true, or returns false to hand the connection to node:http. */
  handleFast(path: string, query: string, headers: IncomingHttpHeaders, body: Buffer, reply: Reply): boolean;
  /**
   * A request whose head or body has not fully arrived within `stallTimeoutMs` (a slow or stuck
   * client): answer it (the connection then closes, its body unread). Without it such a request
   * waits for the idle timeout.
   */
  stalled?(reply: Reply): void;
}

export interface FastFrontOptions {
  /** Larger declared bodies go to node:http (which answers them, e.g. 413). */
  bodyLimit: number;
  /** See FastHandler.stalled; 0 or absent: no limit beyond the idle timeout. */
  stallTimeoutMs?: number;
  /** Request head limit (default 16 KiB); give node:http the same `maxHeaderSize`. */
  maxHeadBytes?: number;
}

/** node:http's default --max-http-header-size; a larger head goes to node:http, which answers 431. */
const DEFAULT_MAX_HEAD = 16 * 1024;
/** Larger bodies go to node:http, which collects chunks without re-copying the buffer per read. */
export const MAX_FAST_BODY = 256 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

let dateText = new Date().toUTCString();
let dateTimer: NodeJS.Timeout | null = null;
function startDateClock(): void {
  if (dateTimer) return;
  dateTimer = setInterval(() => (dateText = new Date().toUTCString()), 1000);
  dateTimer.unref();
}

class FastReply implements Reply {
  done = false;
  constructor(
    private readonly conn: FastConnection,
    private readonly close: boolean,
  ) {}
  send(status: number, headers: string[], body: string | Buffer): void {
    if (this.done) return;
    this.done = true;
    const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    // While shutting down, say so: the connection ends after this answer.
    let close = this.close || this.conn.draining;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      // An answer that says `connection: close` (e.g. a 504 whose work still runs) closes the connection.
      if (headers[i] === 'connection') {
        if (headers[i + 1] === 'close') close = true;
        continue;
      }
      head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    }
    head += `content-length: ${len}\r\ndate: ${dateText}\r\n${close ? 'connection: close\r\n' : ''}\r\n`;
    this.conn.write(head, body, close);
  }
}

class FastConnection {
  private buf: Buffer | null = null;
  private busy = false;
  /** performance.now() when an incomplete request started waiting for more bytes, else 0. */
  private pendingSince = 0;
  private gone = false;
  /** The last answer is written and the socket is ending: nothing more is read or pending. */
  private closing = false;
  draining = false;
  private readonly onData = (chunk: Buffer) => {
    if (this.closing) return;
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.busy) this.parse();
  };

  constructor(
    private readonly socket: Socket,
    private readonly handler: FastHandler,
    private readonly http: HttpServer,
    private readonly bodyLimit: number,
    private readonly maxHead: number,
  ) {
    socket.setNoDelay(true);
    // Idle keep-alive connections close after 65 s (node:http's keepAliveTimeout in grove); one
    // waiting for its answer is left to the owner's request timeout.
    socket.setTimeout(65_000, () => {
      if (!this.busy) socket.destroy();
    });
    socket.on('data', this.onData);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.gone = true;
      live.delete(this);
    });
    live.add(this);
  }

  /** Shutdown: an idle connection ends now; one with a request in flight (or half received) after its answer. */
  drain(): void {
    this.draining = true;
    if (!this.busy && !this.gone && this.buf === null) this.socket.end();
  }

  kill(): void {
    this.socket.destroy();
  }

  /** A request is being answered or has partly arrived. */
  get engaged(): boolean {
    return !this.gone && !this.closing && (this.busy || this.buf !== null);
  }

  /** Answers a request stuck half-received since before `now - limit` (see FastHandler.stalled). */
  checkStall(now: number, limit: number): void {
    if (this.busy || this.gone || this.pendingSince === 0 || now - this.pendingSince < limit) return;
    this.busy = true;
    this.buf = null;
    this.socket.removeListener('data', this.onData);
    const reply = new FastReply(this, true);
    this.handler.stalled?.(reply);
    if (!reply.done) this.socket.destroy();
  }

  write(head: string, body: string | Buffer, close: boolean): void {
    if (this.gone) return;
    if (typeof body === 'string') this.socket.write(head + body);
    else {
      this.socket.cork();
      this.socket.write(head, 'latin1');
      this.socket.write(body);
      this.socket.uncork();
    }
    if (close || this.draining) {
      // A peer that ignores `connection: close` must not hold a graceful shutdown until its timeout.
      this.closing = true;
      this.buf = null;
      this.socket.end();
      return;
    }
    this.busy = false;
    if (this.buf !== null && !this.parsing) this.parse();
  }

  private parsing = false;

  /** Serves buffered requests one at a time (a synchronous answer continues the loop, not the stack). */
  private parse(): void {
    this.parsing = true;
    try {
      while (this.buf !== null && !this.busy && !this.gone && this.parseOne());
    } finally {
      this.parsing = false;
    }
  }

  /** One request from the buffer; false when more bytes are needed or the connection was handed over. */
  private parseOne(): boolean {
    const buf = this.buf;
    if (buf === null) return false;
    // A bare LF line end (RFC 9112 2.2 leaves it to the server) is node:http's call, not ours.
    const lf = buf.indexOf(10);
    if (lf === 0 || (lf > 0 && buf[lf - 1] !== 13)) return this.handOver();
    const he = buf.indexOf(CRLFCRLF);
    if (he < 0) {
      if (buf.length > this.maxHead) return this.handOver();
      return this.waitForMore();
    }
    const head = buf.toString('latin1', 0, he);
    const sp1 = head.indexOf(' ');
    const sp2 = head.indexOf(' ', sp1 + 1);
    const eol = head.indexOf('\r\n');
    const lineEnd = eol < 0 ? head.length : eol;
    if (
      sp1 <= 0 ||
      sp2 < 0 ||
      sp2 > lineEnd ||
      head.slice(sp2 + 1, lineEnd) !== 'HTTP/1.1' ||
      head.slice(0, sp1) !== 'POST'
    )
      return this.handOver();
    const target = head.slice(sp1 + 1, sp2);
    if (target.charCodeAt(0) !== 47 /* '/' */) return this.handOver();
    const headers: IncomingHttpHeaders = Object.create(null);
    let len = -1;
    let close = false;
    let pos = lineEnd + 2;
    while (pos < head.length) {
      let end = head.indexOf('\r\n', pos);
      if (end < 0) end = head.length;
      const colon = head.indexOf(':', pos);
      if (colon <= pos || colon > end) return this.handOver();
      const name = head.slice(pos, colon).toLowerCase();
      const value = head.slice(colon + 1, end).trim();
      pos = end + 2;
      switch (name) {
        case 'content-length':
          if (len >= 0 || !/^[0-9]{1,15}$/.test(value)) return this.handOver();
          len = Number(value);
          break;
        case 'transfer-encoding':
        case 'expect':
        case 'upgrade':
          return this.handOver();
        case 'connection':
          if (/close/i.test(value)) close = true;
          break;
      }
      const prev = headers[name];
      headers[name] = prev === undefined ? value : `${prev as string}, ${value}`;
    }
    // Large bodies go to node:http, which collects chunks without re-copying the buffer per read.
    if (len < 0 || len > this.bodyLimit || len > MAX_FAST_BODY) return this.handOver();
    const total = he + 4 + len;
    if (buf.length < total) return this.waitForMore();
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? '' : target.slice(q);
    const body = buf.subarray(he + 4, total);
    this.busy = true;
    this.pendingSince = 0;
    const reply = new FastReply(this, close);
    // Handled requests consume their bytes; an unknown route hands over with them still unread.
    this.buf = buf.length === total ? null : buf.subarray(total);
    if (!this.handler.handleFast(path, query, headers, body, reply)) {
      this.busy = false;
      this.buf = buf;
      return this.handOver();
    }
    return true;
  }

  private waitForMore(): false {
    if (this.pendingSince === 0) this.pendingSince = performance.now();
    return false;
  }

  /** Gives the connection, bytes not yet consumed included, to the node:http server. */
  private handOver(): false {
    const s = this.socket;
    live.delete(this);
    s.pause();
    s.removeListener('data', this.onData);
    s.setTimeout(0);
    if (this.buf !== null) s.unshift(this.buf);
    this.buf = null;
    this.http.emit('connection', s);
    s.resume();
    return false;
  }
}

const live = new Set<FastConnection>();

export interface FastFront {
  server: Server;
  /** Stops accepting, ends idle connections and busy ones after their answer; destroys leftovers after `graceMs`. */
  close(graceMs?: number): Promise<void>;
  /** Destroys every connection now (after close(), once the caller's in-flight work is done). */
  destroyConnections(): void;
  /** Requests on fast connections being answered or partly received (graceful shutdown waits for them). */
  pendingRequests(): number;
}

export function createFastFront(handler: FastHandler, http: HttpServer, opts: FastFrontOptions): FastFront {
  startDateClock();
  const mine = new Set<FastConnection>();
  const server = createServer({ noDelay: true }, (socket) => {
    const c = new FastConnection(
      socket,
      handler,
      http,
      opts.bodyLimit,
      opts.maxHeadBytes ?? DEFAULT_MAX_HEAD,
    );
    mine.add(c);
    socket.on('close', () => mine.delete(c));
  });
  const limit = opts.stallTimeoutMs ?? 0;
  let stallTimer: NodeJS.Timeout | null = null;
  if (limit > 0) {
    stallTimer = setInterval(
      () => {
        const now = performance.now();
        for (const c of mine) if (live.has(c)) c.checkStall(now, limit);
      },
      Math.min(1000, limit),
    );
    stallTimer.unref();
  }
  const destroyConnections = (): void => {
    for (const c of mine) c.kill();
    http.closeAllConnections();
  };
  return {
    server,
    close(graceMs = 2000) {
      return new Promise((resolve) => {
        server.close(() => {
          if (stallTimer !== null) clearInterval(stallTimer);
          resolve();
        });
        for (const c of mine) if (live.has(c)) c.drain();
        http.closeIdleConnections();
        setTimeout(destroyConnections, graceMs).unref();
      });
    },
    destroyConnections,
    pendingRequests() {
      let n = 0;
      for (const c of mine) if (live.has(c) && c.engaged) n++;
      return n;
    },
  };
}
