// Strict HTTP/1.1 request-head parsing for the fast front (RFC 9112, as llhttp does it in node's
// default strict mode). The fast front serves only requests this parser fully understands: POST
// (or GET without a body, when the front takes GETs), origin-form target, `HTTP/1.1`, CRLF line ends, token field names with the colon right after
// them, field values of visible ASCII, space and tab, exactly one Host, at most one Content-Length
// of digits, no Transfer-Encoding or Upgrade, and no Expect but `100-continue`. Anything else,
// valid or not, is handed with the connection to node:http, which accepts or refuses it (a 400,
// and the connection closes) exactly as it would on its own: so the pair never accepts a request
// node:http refuses, nor reads one differently (no request smuggling between them).

/** Bytes allowed in a field name: RFC 9110 5.6.2 tchar. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

/** Bytes of an origin-form target served here (RFC 3986 pchar, '/' and '?'); others go to node:http. */
const TARGET = new Uint8Array(256);
for (let c = 0; c < 256; c++) TARGET[c] = TCHAR[c]!;
for (const c of "/?:@=;,()!$&'*+-._~%") TARGET[c.charCodeAt(0)] = 1;
// Not in a target: '|', '^', '`' are not URI characters; node:http takes some of them, so let it decide.
for (const c of '|^`') TARGET[c.charCodeAt(0)] = 0;

export interface RequestHead {
  method: 'GET' | 'POST';
  path: string;
  /** '' or '?...' */
  query: string;
  /** Lower-case names; repeated fields joined with ', ' (cookies with '; '). */
  headers: Record<string, string>;
  contentLength: number;
  /** `Connection: close` */
  close: boolean;
  /** `Expect: 100-continue` */
  expectContinue: boolean;
  /** Offset of the body (after the head's CRLFCRLF). */
  bodyStart: number;
}

/** Needs more bytes. */
export const MORE = 0;
/** Not for the fast front: node:http decides. */
export const HAND_OVER = 1;

const CRLFCRLF = Buffer.from('\r\n\r\n');
const POST_ = Buffer.from('POST ');
const GET_ = Buffer.from('GET ');
const HTTP11 = Buffer.from(' HTTP/1.1\r\n');

/**
 * Field names most requests carry, as their lower-case strings: matched on the bytes, so the
 * common case allocates no name and lower-cases nothing (V8 then also finds the property key
 * already internalized).
 */
const KNOWN = [
  'host',
  'content-type',
  'content-length',
  'connection',
  'user-agent',
  'accept',
  'expect',
  'transfer-encoding',
  'upgrade',
  'x-request-id',
  'accept-encoding',
  'x-user-id',
  'x-grove-request-ids',
  'inference-header-content-length',
].map((n) => ({ name: n, bytes: Buffer.from(n) }));

/** The lower-case name of buf[from, to) when it is a known one (ASCII case-insensitive), else null. */
function knownName(buf: Buffer, from: number, to: number): string | null {
  const len = to - from;
  for (let k = 0; k < KNOWN.length; k++) {
    const b = KNOWN[k]!.bytes;
    if (b.length !== len) continue;
    let j = 0;
    while (j < len && (buf[from + j]! | 0x20) === b[j]) j++;
    // `| 0x20` also folds '-' (0x2d) to itself and digits to themselves; the TCHAR scan already
    // refused anything else that could fold onto a letter.
    if (j === len) return KNOWN[k]!.name;
  }
  return null;
}

/** Parses the request head at the start of `buf`; a GET is handed over unless `gets`. */
export function parseRequestHead(
  buf: Buffer,
  maxHead: number,
  gets = false,
): RequestHead | typeof MORE | typeof HAND_OVER {
  const n = buf.length;
  // Anything but "POST " or "GET " is decided by node:http (as soon as that is visible).
  const method = gets && n > 0 && buf[0] === 71 /* 'G' */ ? GET_ : POST_;
  const ml = method.length;
  const k = n < ml ? n : ml;
  for (let i = 0; i < k; i++) if (buf[i] !== method[i]) return HAND_OVER;
  const he = buf.indexOf(CRLFCRLF);
  if (he < 0) return n > maxHead ? HAND_OVER : MORE;
  if (he + 4 > maxHead) return HAND_OVER;
  // Request line: METHOD SP origin-form SP HTTP/1.1 CRLF, checked on the bytes.
  if (buf[ml] !== 47 /* '/' */) return HAND_OVER;
  let sp = ml + 1;
  let q = -1;
  for (; sp < he; sp++) {
    const c = buf[sp]!;
    if (c === 32) break;
    if (TARGET[c] !== 1) return HAND_OVER;
    if (c === 63 /* '?' */ && q < 0) q = sp;
  }
  for (let j = 0; j < HTTP11.length; j++) if (buf[sp + j] !== HTTP11[j]) return HAND_OVER;
  const lineEnd = sp + HTTP11.length - 2;
  if (lineEnd > he) return HAND_OVER;
  // The head as text, once: names and values are slices of it.
  const head = buf.toString('latin1', 0, he);
  const headers: Record<string, string> = Object.create(null);
  let len = -1;
  let hosts = 0;
  let close = false;
  let expectContinue = false;
  let pos = lineEnd + 2;
  while (pos < he) {
    let end = buf.indexOf(13 /* CR */, pos);
    if (end < 0 || end > he) end = he;
    let i = pos;
    while (i < end && TCHAR[buf[i]!] === 1) i++;
    // An empty name, a space or tab before the colon, obs-fold (a line starting with whitespace),
    // a bare CR or LF: all end the name without a colon right after it.
    if (i === pos || i === end || buf[i] !== 58 /* ':' */) return HAND_OVER;
    // A CR that is not the line's end (bare CR) is seen here: the line must end in CRLF.
    if (end < he && buf[end + 1] !== 10) return HAND_OVER;
    let vs = i + 1;
    while (vs < end && isOws(buf[vs]!)) vs++;
    let ve = end;
    while (ve > vs && isOws(buf[ve - 1]!)) ve--;
    for (let j = vs; j < ve; j++) {
      const c = buf[j]!;
      if (c !== 9 && (c < 32 || c > 126)) return HAND_OVER;
    }
    const name = knownName(buf, pos, i) ?? head.slice(pos, i).toLowerCase();
    const value = head.slice(vs, ve);
    switch (name) {
      case 'content-length':
        // llhttp takes spaces around the number but not tabs: let node:http refuse those itself.
        if (len >= 0 || value.length === 0 || value.length > 15) return HAND_OVER;
        for (let j = i + 1; j < end; j++) if (buf[j] === 9) return HAND_OVER;
        for (let j = 0; j < value.length; j++) {
          const c = value.charCodeAt(j);
          if (c < 48 || c > 57) return HAND_OVER;
        }
        len = Number(value);
        break;
      case 'host':
        hosts++;
        break;
      case 'transfer-encoding':
      case 'upgrade':
        return HAND_OVER;
      case 'expect':
        if (value.toLowerCase() !== '100-continue') return HAND_OVER;
        expectContinue = true;
        break;
      case 'connection':
        if (hasToken(value, 'close')) close = true;
        break;
    }
    const prev = headers[name];
    headers[name] = prev === undefined ? value : `${prev}${name === 'cookie' ? '; ' : ', '}${value}`;
    pos = end + 2;
  }
  // RFC 9112 3.2: an HTTP/1.1 request without exactly one Host is refused (node:http's call).
  if (hosts !== 1) return HAND_OVER;
  // A GET here has no body and no framing to agree on (nor an expectation); any other is node's.
  if (method === GET_) {
    if (len >= 0 || expectContinue) return HAND_OVER;
    len = 0;
  } else if (len < 0) return HAND_OVER;
  return {
    method: method === GET_ ? 'GET' : 'POST',
    path: q < 0 ? head.slice(ml, sp) : head.slice(ml, q),
    query: q < 0 ? '' : head.slice(q, sp),
    headers,
    contentLength: len,
    close,
    expectContinue,
    bodyStart: he + 4,
  };
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

/** Whether a comma-separated header value lists `token` (case-insensitive). */
export function hasToken(value: string, token: string): boolean {
  const v = value.toLowerCase();
  let from = 0;
  for (;;) {
    const at = v.indexOf(token, from);
    if (at < 0) return false;
    const before = at === 0 ? 44 : v.charCodeAt(at - 1);
    const after = at + token.length >= v.length ? 44 : v.charCodeAt(at + token.length);
    if ((before === 44 || isOws(before)) && (after === 44 || isOws(after))) {
      // Whitespace around the token must run back (and on) to a comma or an end.
      let a = at - 1;
      while (a >= 0 && isOws(v.charCodeAt(a))) a--;
      let b = at + token.length;
      while (b < v.length && isOws(v.charCodeAt(b))) b++;
      if ((a < 0 || v.charCodeAt(a) === 44) && (b >= v.length || v.charCodeAt(b) === 44)) return true;
    }
    from = at + 1;
  }
}
