// A small path router for the worker (and for modules that add routes to it, such as the monitor's
// `GET /v2/models/{m}/versions/{v}/monitor`). Patterns are split on '/'; a segment is a literal,
// `{name}`, or `{name}<literal suffix>` for the TF Serving style `/v1/models/{model}:predict`.
// Unknown paths are 404; a known path with another method is 405 with an Allow header (RFC 9110
// 15.5.6). HEAD is served by GET handlers (node drops the body).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { BadInputError, MethodNotAllowedError, RouteNotFoundError } from '../../shared/errors/grove-error.js';
import type { RequestTrace } from '../../shared/tracing/tracing.js';

export type RouteParams = Record<string, string>;

/** Per-request state the worker keeps; handlers may read it. */
export interface RequestContext {
  requestId: string;
  /** Raw `x-grove-request-ids` of a call the gateway merged (see observer.ts), else undefined. */
  requestIds: string | undefined;
  /** performance.now() at arrival. */
  start: number;
  /** Metric labels the handler fills in once it knows them. */
  model: string;
  version: string;
  route: string;
  /** The query string (without '?'), or ''. */
  query: string;
  /** The model version that answered, once known (labels metrics, names it in error responses). */
  served: ServedVersion | null;
  /** Streamed answers (`:batch`) are exempt from the request timeout. */
  streaming: boolean;
  /** The request's spans when tracing is on (shared/tracing), else null. */
  trace: RequestTrace | null;
}

/** What the router needs to know of the version that served a request. */
export interface ServedVersion {
  name: string;
  version: string;
  sha256: string;
}

export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: RouteParams,
  ctx: RequestContext,
) => unknown;

/**
 * The same route served from the fast front (shared/http/fast-front.ts): the body is already read
 * and the answer is a model's JSON (200), sent by the caller with the served version's headers.
 * Throws (or rejects) a GroveError for a 4xx/5xx answer; must set ctx.served once it knows it.
 */
export type FastRouteHandler = (
  params: RouteParams,
  headers: IncomingHttpHeaders,
  body: Buffer,
  ctx: RequestContext,
) => string | Promise<string>;

interface Segment {
  literal: string | null;
  param: string | null;
  suffix: string;
}

interface Route {
  method: string;
  pattern: string;
  segments: Segment[];
  handler: RouteHandler;
  /** Metric label for the route. */
  name: string;
  fast: FastRouteHandler | null;
}

export interface RouteMatch {
  handler: RouteHandler;
  params: RouteParams;
  name: string;
  fast: FastRouteHandler | null;
}

function compile(pattern: string): Segment[] {
  const parts = pattern.split('/').slice(1);
  return parts.map((p) => {
    const m = /^\{([A-Za-z_][A-Za-z0-9_]*)\}(.*)$/.exec(p);
    if (m) return { literal: null, param: m[1]!, suffix: m[2]! };
    return { literal: p, param: null, suffix: '' };
  });
}

function decode(s: string): string {
  if (s.indexOf('%') === -1) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    throw new BadInputError(`malformed percent-encoding in path segment '${s}'`, 'GROVE_ERR_BAD_PATH');
  }
}

export class Router {
  /** Routes bucketed by segment count, so a lookup scans only a handful. */
  private readonly bySegments = new Map<number, Route[]>();
  /** Recent exact (method, path) matches: clients repeat the same few paths. Params are shared, read-only. */
  private readonly cache = new Map<string, RouteMatch>();
  private static readonly CACHE_SIZE = 512;

  /** `fast`, for POST routes whose answer is one JSON body, lets the fast front serve them too. */
  add(
    method: string,
    pattern: string,
    handler: RouteHandler,
    name = pattern,
    fast: FastRouteHandler | null = null,
  ): void {
    if (!pattern.startsWith('/')) throw new Error(`route pattern must start with '/': ${pattern}`);
    const segments = compile(pattern);
    const route: Route = { method: method.toUpperCase(), pattern, segments, handler, name, fast };
    let list = this.bySegments.get(segments.length);
    if (!list) this.bySegments.set(segments.length, (list = []));
    // Literal routes win over param routes with the same shape (e.g. /v2/models/x vs /v2/{...}).
    list.push(route);
    list.sort((a, b) => literalCount(b) - literalCount(a));
    this.cache.clear();
  }

  /** Finds the handler for a path (no query string); throws 404 / 405 GroveErrors. */
  find(method: string, path: string): RouteMatch {
    const key = method + path;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const m = this.match(method, path);
    if (this.cache.size < Router.CACHE_SIZE) this.cache.set(key, m);
    return m;
  }

  private match(method: string, path: string): RouteMatch {
    const parts = path.split('/');
    // parts[0] is '' for an absolute path; a trailing slash (except '/') is ignored: '/v2/' = '/v2'.
    let n = parts.length - 1;
    if (n > 1 && parts[n] === '') n--;
    const list = this.bySegments.get(n);
    const m = method === 'HEAD' ? 'GET' : method;
    let allow: string[] | null = null;
    if (list !== undefined) {
      for (let r = 0; r < list.length; r++) {
        const route = list[r]!;
        const params = matchSegments(route.segments, parts, n);
        if (params === null) continue;
        if (route.method === m) return { handler: route.handler, params, name: route.name, fast: route.fast };
        (allow ??= []).push(route.method);
      }
    }
    if (allow !== null) {
      if (allow.includes('GET')) allow.push('HEAD');
      throw new MethodNotAllowedError(method, [...new Set(allow)]);
    }
    throw new RouteNotFoundError(path);
  }
}

function literalCount(r: Route): number {
  let c = 0;
  for (const s of r.segments) if (s.literal !== null || s.suffix !== '') c++;
  return c;
}

function matchSegments(segments: Segment[], parts: string[], n: number): RouteParams | null {
  let params: RouteParams | null = null;
  for (let i = 0; i < n; i++) {
    const seg = segments[i]!;
    const part = parts[i + 1]!;
    if (seg.literal !== null) {
      if (seg.literal !== part) return null;
      continue;
    }
    let value = part;
    if (seg.suffix !== '') {
      if (!part.endsWith(seg.suffix) || part.length === seg.suffix.length) return null;
      value = part.slice(0, part.length - seg.suffix.length);
    } else if (part === '' || part.indexOf(':') !== -1) {
      // A bare param never swallows a ':verb' segment, so /v1/models/m:predict is not /v1/models/{m}.
      return null;
    }
    (params ??= Object.create(null) as RouteParams)[seg.param!] = decode(value);
  }
  return params ?? (Object.create(null) as RouteParams);
}
