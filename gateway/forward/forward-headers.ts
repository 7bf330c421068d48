// What crosses the gateway, in both directions. Hop-by-hop fields (RFC 9110 7.6.1: Connection,
// the fields it names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-*) describe one
// connection and are never forwarded; neither is Expect (the gateway answers it itself), nor the
// headers the gateway sets: x-request-id, X-Forwarded-For and Forwarded (RFC 7239) get the
// client's address appended, and a client cannot send x-grove-request-ids (the gateway's own
// note to a worker about merged calls) or x-grove-worker.
import type { IncomingHttpHeaders } from 'node:http';
import type { UpstreamAnswer } from './upstream-call.js';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
]);

const NOT_FORWARDED = new Set([
  ...HOP_BY_HOP,
  'host',
  'content-length',
  'expect',
  'x-request-id',
  'x-grove-request-ids',
  'x-grove-worker',
  'x-forwarded-for',
  'forwarded',
]);

const NOT_ANSWERED = new Set([
  ...HOP_BY_HOP,
  'content-length',
  'date',
  'x-request-id',
  'x-grove-worker',
  'x-grove-model-version',
]);

/** Field names a Connection header lists (they are hop-by-hop for this message), or null. */
export function connectionNames(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  const v = Array.isArray(value) ? value.join(',') : value;
  let out: Set<string> | null = null;
  for (const t of v.split(',')) {
    const name = t.trim().toLowerCase();
    if (name !== '' && name !== 'close' && name !== 'keep-alive') (out ??= new Set()).add(name);
  }
  return out;
}

/** RFC 7239 node for an address: IPv6 quoted in brackets. */
export function forwardedNode(addr: string): string {
  if (addr === '') return 'unknown';
  return addr.includes(':') ? `"[${addr}]"` : addr;
}

/**
 * The header fields of the upstream request for a client's request: its own end-to-end fields,
 * then x-request-id and the forwarding fields. Flat [name, value...].
 */
export function upstreamHeaders(
  h: IncomingHttpHeaders,
  requestId: string,
  peer: string,
  secure: boolean,
): string[] {
  const listed = connectionNames(h.connection);
  const out: string[] = [];
  for (const k in h) {
    if (NOT_FORWARDED.has(k) || listed?.has(k)) continue;
    const v = h[k];
    if (v === undefined) continue;
    if (typeof v === 'string') out.push(k, v);
    else for (const x of v) out.push(k, x);
  }
  const xff = h['x-forwarded-for'];
  const fwd = h.forwarded;
  out.push(
    'x-request-id',
    requestId,
    'x-forwarded-for',
    xff ? `${xff}, ${peer}` : peer,
    'forwarded',
    `${fwd ? `${fwd}, ` : ''}for=${forwardedNode(peer)};proto=${secure ? 'https' : 'http'}`,
  );
  return out;
}

/**
 * A worker's answer as the client gets it: its end-to-end fields (all of them, or for a slice of a
 * merged answer only the model's identity), the version that served it, the worker and the id.
 */
export function answerHeaders(
  a: UpstreamAnswer,
  requestId: string,
  version: string | null,
  passHeaders: boolean,
): string[] {
  const uh = a.headers;
  const out: string[] = [];
  let served: string | null = null;
  let listed: Set<string> | null = null;
  for (let i = 0; i < uh.length; i += 2) {
    const k = uh[i]!;
    if (k === 'connection') listed = connectionNames(uh[i + 1]);
    else if (k === 'x-grove-model-version') served = uh[i + 1]!;
  }
  if (passHeaders) {
    for (let i = 0; i < uh.length; i += 2) {
      const k = uh[i]!;
      if (NOT_ANSWERED.has(k) || listed?.has(k)) continue;
      out.push(k, uh[i + 1]!);
    }
  } else {
    out.push('content-type', 'application/json');
    for (let i = 0; i < uh.length; i += 2) {
      const k = uh[i]!;
      if (k === 'x-grove-model-sha256' || k === 'x-grove-model') out.push(k, uh[i + 1]!);
    }
  }
  served ??= version;
  if (served) out.push('x-grove-model-version', served);
  out.push('x-grove-worker', a.worker.name, 'x-request-id', requestId);
  return out;
}

/** The x-grove-model-version a worker's answer names, or null. */
export function servedVersion(a: UpstreamAnswer): string | null {
  const uh = a.headers;
  for (let i = 0; i < uh.length; i += 2) if (uh[i] === 'x-grove-model-version') return uh[i + 1]!;
  return null;
}
