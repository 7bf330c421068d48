// Frames the answers on a pipelined upstream connection (RFC 9112 6: Content-Length or chunked;
// 1xx answers skipped) without interpreting them: each answer's status, header fields (lower-case
// names, flat) and body bytes go to `onAnswer` in order. Used by the gateway on its worker
// connections and by the load generator (loadtest/open-loop-connections.ts). Grove's workers and
// gateway always frame their answers, so an answer without a length, a head over 64 KiB, a body
// over `maxBody` or malformed framing is a protocol error: the connection is then unusable and
// `onError` is called once.

export interface UpstreamResponse {
  status: number;
  /** [name, value, name, value...], lower-case names. */
  headers: string[];
  body: Buffer;
  /** The worker closes the connection after this answer. */
  close: boolean;
}

const MAX_HEAD = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

enum State {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
}

export class ResponseParser {
  private buf: Buffer = EMPTY;
  private state = State.Head;
  private status = 0;
  private headers: string[] = [];
  private close = false;
  private remaining = 0;
  private chunks: Buffer[] = [];
  private size = 0;
  private failed = false;

  constructor(
    private readonly maxBody: number,
    private readonly onAnswer: (r: UpstreamResponse) => void,
    private readonly onError: (message: string) => void,
  ) {}

  feed(chunk: Buffer): void {
    if (this.failed) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    const b = this.buf;
    for (;;) {
      const next = this.step(b, pos);
      if (next < 0) break;
      pos = next;
      if (this.failed) return;
    }
    this.buf = pos === b.length ? EMPTY : b.subarray(pos);
  }

  /** Consumes from `pos`; the new position, or -1 when more bytes are needed. */
  private step(b: Buffer, pos: number): number {
    switch (this.state) {
      case State.Head: {
        if (pos >= b.length) return -1;
        const he = b.indexOf(CRLFCRLF, pos);
        if (he < 0) {
          if (b.length - pos > MAX_HEAD) this.fail('answer head too large');
          return -1;
        }
        this.parseHead(b.toString('latin1', pos, he));
        return this.failed ? -1 : he + 4;
      }
      case State.Body: {
        const avail = b.length - pos;
        if (avail < this.remaining) {
          // A body split over reads: keep what came (a later read completes it).
          if (avail > 0) this.take(b.subarray(pos));
          this.remaining -= avail;
          return avail > 0 ? b.length : -1;
        }
        this.take(b.subarray(pos, pos + this.remaining));
        const end = pos + this.remaining;
        this.remaining = 0;
        this.emit();
        return end;
      }
      case State.ChunkSize: {
        const e = b.indexOf(CRLF, pos);
        if (e < 0) {
          if (b.length - pos > 1024) this.fail('malformed chunk size');
          return -1;
        }
        let n = 0;
        let i = pos;
        for (; i < e; i++) {
          const c = b[i]!;
          const d =
            c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (d < 0) break;
          n = n * 16 + d;
        }
        // Chunk extensions (after ';') are ignored, as RFC 9112 7.1.1 allows.
        if (i === pos || (i < e && b[i] !== 59 && b[i] !== 32 && b[i] !== 9) || n > this.maxBody) {
          this.fail('malformed chunk size');
          return -1;
        }
        this.remaining = n;
        this.state = n === 0 ? State.Trailers : State.ChunkData;
        return e + 2;
      }
      case State.ChunkData: {
        const avail = b.length - pos;
        if (avail === 0) return -1;
        const n = Math.min(avail, this.remaining);
        this.take(b.subarray(pos, pos + n));
        this.remaining -= n;
        if (this.remaining === 0) this.state = State.ChunkEnd;
        return pos + n;
      }
      case State.ChunkEnd: {
        if (b.length - pos < 2) return -1;
        if (b[pos] !== 13 || b[pos + 1] !== 10) {
          this.fail('malformed chunk end');
          return -1;
        }
        this.state = State.ChunkSize;
        return pos + 2;
      }
      case State.Trailers: {
        const e = b.indexOf(CRLF, pos);
        if (e < 0) return -1;
        // Trailer fields are dropped; an empty line ends the answer.
        if (e === pos) this.emit();
        return e + 2;
      }
    }
  }

  private parseHead(head: string): void {
    // Status line: HTTP/1.1 NNN reason
    if (
      !head.startsWith('HTTP/1.') ||
      head.charCodeAt(8) !== 32 ||
      (head.length > 12 && head.charCodeAt(12) !== 32)
    ) {
      this.fail('malformed status line');
      return;
    }
    const status = Number(head.slice(9, 12));
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      this.fail('malformed status line');
      return;
    }
    const headers: string[] = [];
    let len = -1;
    let chunked = false;
    let close = head.charCodeAt(7) === 48; // HTTP/1.0 closes unless it says keep-alive
    let pos = head.indexOf('\r\n');
    while (pos >= 0) {
      pos += 2;
      let end = head.indexOf('\r\n', pos);
      if (end < 0) end = head.length;
      const colon = head.indexOf(':', pos);
      if (colon <= pos || colon > end) {
        this.fail('malformed header line');
        return;
      }
      const name = head.slice(pos, colon).toLowerCase();
      const value = head.slice(colon + 1, end).trim();
      if (name === 'content-length') {
        if (!/^[0-9]{1,15}$/.test(value) || len >= 0) {
          this.fail('malformed content-length');
          return;
        }
        len = Number(value);
      } else if (name === 'transfer-encoding') {
        if (value.toLowerCase() !== 'chunked') {
          this.fail('unsupported transfer-encoding');
          return;
        }
        chunked = true;
      } else if (name === 'connection') {
        const v = value.toLowerCase();
        if (v.includes('close')) close = true;
        else if (v.includes('keep-alive')) close = false;
      }
      headers.push(name, value);
      pos = end < head.length ? end : -1;
    }
    if (status < 200) {
      // 100 Continue and other interim answers: the final answer follows.
      if (status === 101) this.fail('unexpected protocol switch');
      return;
    }
    this.status = status;
    this.headers = headers;
    this.close = close;
    this.chunks = [];
    this.size = 0;
    if (chunked) this.state = State.ChunkSize;
    else if (len > 0) {
      if (len > this.maxBody) {
        this.fail('answer body too large');
        return;
      }
      this.remaining = len;
      this.state = State.Body;
    } else if (len === 0 || status === 204 || status === 304) this.emit();
    else this.fail('answer without a length');
  }

  private take(part: Buffer): void {
    this.size += part.length;
    if (this.size > this.maxBody) {
      this.fail('answer body too large');
      return;
    }
    this.chunks.push(part);
  }

  private emit(): void {
    const c = this.chunks;
    const body = c.length === 0 ? EMPTY : c.length === 1 ? c[0]! : Buffer.concat(c, this.size);
    this.chunks = [];
    this.state = State.Head;
    this.onAnswer({ status: this.status, headers: this.headers, body, close: this.close });
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.onError(message);
  }
}
