// A fast front for the prediction routes of the gateway and the worker. node:http costs more per
// request than the rest of the forward path together (IncomingMessage/ServerResponse objects,
// streams, header validation): for a gateway that must cost what nginx costs and a worker that
// must beat a bare node:http server answering a constant, that is the budget. This front reads
// requests off the socket, parses the head strictly (request-head.ts) and gives POST requests with
// a Content-Length body (and, with the `gets` option, bodiless GETs) to the handler, which answers through `Reply` (one socket write).
// `Expect: 100-continue` is answered here (100, then the body is read). Anything else on the
// connection (another route or method, chunked bodies, other expectations, Upgrade, HTTP/1.0,
// malformed heads) hands the connection, with the bytes already read, to the node:http server
// (`server.emit('connection')`, as httpolyglot does), which serves it for good and refuses what it
// refuses. One request per connection is in flight at a time, so pipelined requests are answered
// in order. Plain TCP or TLS (`tls` option): the same path either way.
import { type Server as HttpServer, type IncomingHttpHeaders, STATUS_CODES } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Reply } from './reply.js';
import { HAND_OVER, MORE, parseRequestHead } from './request-head.js';

/** A request the fast front serves itself: its head parsed, its whole body read. */
export interface FastRequest {
  /** GET (bodiless; only with the `gets` option) or POST. */
  method: 'GET' | 'POST';
  path: string;
  /** '' or '?...' */
  query: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  socket: Socket;
}

export interface FastHandler {
  /** Answers through `reply` (now or later) and returns true, or returns false to hand the connection to node:http. */
  handleFast(req: FastRequest, reply: Reply): boolean;
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
  /** Serve HTTP/1.1 over TLS with these options (certificate, key...). */
  tls?: TlsOptions;
  /**
   * Give bodiless GETs to the handler too (its `handleFast` returns false for those it leaves to
   * node:http), not only POSTs.
   */
  gets?: boolean;
  /** Hears each request the front refuses itself (one cut short by the client's end). */
  onRefused?: (socket: Socket, reason: string) => void;
}

/** node:http's default --max-http-header-size; a larger head goes to node:http, which answers 431. */
const DEFAULT_MAX_HEAD = 16 * 1024;
/** Larger bodies go to node:http, which collects chunks without re-copying the buffer per read. */
export const MAX_FAST_BODY = 256 * 1024;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
/** Buffer bodies up to this size are written with their head as one string. */
const SMALL_BODY = 16 * 1024;
const BAD_HTTP_BODY = '{"error":"the request ended before it was complete","code":"GROVE_ERR_BAD_HTTP"}';
const BAD_HTTP = `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${BAD_HTTP_BODY.length}\r\n\r\n${BAD_HTTP_BODY}`;

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
      // An answer that says `connection: close` (e.g. a 413 whose body was not read) closes the connection.
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
  /** The client ended its side (half-close): answer what is complete, then end ours. */
  private ended = false;
  /** The last answer is written and the socket is ending: nothing more is read or pending. */
  private closing = false;
  /** A 100 Continue went out for the request now being received. */
  private continued = false;
  draining = false;
  private parsing = false;
  private readonly onData = (chunk: Buffer) => {
    if (this.closing) return;
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.busy) this.parse();
  };
  private readonly onEnd = () => {
    this.ended = true;
    if (this.closing || this.busy) return;
    if (this.buf !== null) {
      // A request cut short by the client's end: node:http refuses it the same way (HPE_INVALID_EOF_STATE).
      this.closing = true;
      this.buf = null;
      this.onRefused?.(this.socket, 'incomplete request at end of input');
      this.socket.end(BAD_HTTP);
    } else this.socket.end();
  };

  constructor(
    private readonly socket: Socket,
    private readonly handler: FastHandler,
    private readonly http: HttpServer,
    private readonly bodyLimit: number,
    private readonly maxHead: number,
    private readonly live: Set<FastConnection>,
    private readonly onRefused: FastFrontOptions['onRefused'],
    private readonly gets: boolean,
  ) {
    socket.setNoDelay(true);
    // Idle keep-alive connections close after 65 s (node:http's keepAliveTimeout in grove); one
    // waiting for its answer is left to the owner's request timeout.
    socket.setTimeout(65_000, () => {
      if (!this.busy) socket.destroy();
    });
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
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
    const s = this.socket;
    // One write of one string: cheaper in Node than a corked head + body writev for the small
    // answers predictions are (a Buffer's bytes as latin1 characters are the same bytes).
    if (typeof body === 'string') s.write(head + body);
    else if (body.length <= SMALL_BODY) s.write(head + body.toString('latin1'), 'latin1');
    else {
      s.cork();
      s.write(head, 'latin1');
      s.write(body);
      s.uncork();
    }
    if (close || this.draining) {
      // A peer that ignores `connection: close` must not hold a graceful shutdown until its timeout.
      this.closing = true;
      this.buf = null;
      s.end();
      return;
    }
    this.busy = false;
    if (this.buf !== null) {
      if (!this.parsing) this.parse();
    } else if (this.ended) {
      this.closing = true;
      s.end();
    }
  }

  /** Serves buffered requests one at a time (a synchronous answer continues the loop, not the stack). */
  private parse(): void {
    this.parsing = true;
    // Pipelined requests answered at once (a worker's inline predictions) leave in one write.
    const s = this.socket;
    s.cork();
    try {
      while (this.buf !== null && !this.busy && !this.gone && !this.closing && this.parseOne());
    } finally {
      this.parsing = false;
      if (s.writableCorked > 0) s.uncork();
    }
    if (this.ended && !this.busy && !this.closing && !this.gone) this.onEnd();
  }

  /** One request from the buffer; false when more bytes are needed or the connection was handed over. */
  private parseOne(): boolean {
    const buf = this.buf!;
    const h = parseRequestHead(buf, this.maxHead, this.gets);
    if (h === MORE) return this.waitForMore();
    if (h === HAND_OVER) return this.handOver();
    const len = h.contentLength;
    // Large bodies go to node:http, which collects chunks without re-copying the buffer per read.
    if (len > this.bodyLimit || len > MAX_FAST_BODY) return this.handOver();
    const total = h.bodyStart + len;
    // Bytes after a `Connection: close` request: node:http refuses them (llhttp's "data after
    // Connection: close"), so it decides.
    if (h.close && buf.length > total) return this.handOver();
    if (buf.length < total) {
      // RFC 9110 10.1.1: the client waits for 100 (Continue) before sending the body.
      if (h.expectContinue && !this.continued) {
        this.continued = true;
        this.socket.write(CONTINUE);
      }
      return this.waitForMore();
    }
    this.continued = false;
    this.busy = true;
    this.pendingSince = 0;
    const reply = new FastReply(this, h.close);
    // Handled requests consume their bytes; an unknown route hands over with them still unread.
    this.buf = buf.length === total ? null : buf.subarray(total);
    const req: FastRequest = {
      method: h.method,
      path: h.path,
      query: h.query,
      headers: h.headers as IncomingHttpHeaders,
      body: buf.subarray(h.bodyStart, total),
      socket: this.socket,
    };
    if (!this.handler.handleFast(req, reply)) {
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
    this.live.delete(this);
    s.removeListener('data', this.onData);
    s.removeListener('end', this.onEnd);
    s.setTimeout(0);
    if (this.ended) {
      // The client's end was already read: node:http could never see it, so close rather than hang.
      this.closing = true;
      s.destroy();
      return false;
    }
    s.pause();
    if (this.buf !== null) s.unshift(this.buf);
    this.buf = null;
    this.gone = true;
    this.http.emit('connection', s);
    s.resume();
    return false;
  }
}

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
  const live = new Set<FastConnection>();
  const maxHead = opts.maxHeadBytes ?? DEFAULT_MAX_HEAD;
  const accept = (socket: Socket) => {
    const c = new FastConnection(
      socket,
      handler,
      http,
      opts.bodyLimit,
      maxHead,
      live,
      opts.onRefused,
      opts.gets === true,
    );
    mine.add(c);
    socket.on('close', () => mine.delete(c));
  };
  // allowHalfOpen: a client that ends its side after sending still gets its answers (node:http too).
  let server: Server;
  if (opts.tls) {
    // Half-open only once the handshake is done: a TLS server created allowHalfOpen keeps a socket
    // whose client gave up mid-handshake open for good (nothing would ever close it).
    const tlsServer = createTlsServer({ ...opts.tls, allowHalfOpen: false }, (s: TLSSocket) => {
      s.allowHalfOpen = true;
      accept(s);
    });
    // A failed handshake is the client's problem: close its socket (a listener here means node
    // leaves that to us, and an open one would hold a graceful close forever).
    tlsServer.on('tlsClientError', (_err, socket) => socket.destroy());
    server = tlsServer;
  } else server = createNetServer({ noDelay: true, allowHalfOpen: true }, accept);
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
