// The one route table, used by the worker and the gateway (each stores its own kind of handler).
// Patterns are split on '/'; a segment is a literal, `{name}`, or `{name}<literal suffix>` for
// the TF Serving style `/v1/models/{model}:predict`. Unknown paths are 404; a known path with
// another method is 405 with an Allow header (RFC 9110 15.5.6). HEAD finds GET routes.
import { BadInputError, MethodNotAllowedError, RouteNotFoundError } from '../errors/grove-error.js';

export type RouteParams = Record<string, string>;

interface Segment {
  literal: string | null;
  param: string | null;
  suffix: string;
}

interface Route<T> {
  method: string;
  pattern: string;
  segments: Segment[];
  value: T;
  /** Metric label for the route. */
  name: string;
}

export interface RouteMatch<T> {
  value: T;
  params: RouteParams;
  name: string;
  pattern: string;
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

export class RouteTable<T> {
  /** Routes bucketed by segment count, so a lookup scans only a handful. */
  private readonly bySegments = new Map<number, Route<T>[]>();
  /** Recent exact (method, path) matches: clients repeat the same few paths. Params are shared, read-only. */
  private readonly cache = new Map<string, RouteMatch<T>>();
  private static readonly CACHE_SIZE = 512;

  add(method: string, pattern: string, value: T, name = pattern): void {
    if (!pattern.startsWith('/')) throw new Error(`route pattern must start with '/': ${pattern}`);
    const segments = compile(pattern);
    const route: Route<T> = { method: method.toUpperCase(), pattern, segments, value, name };
    let list = this.bySegments.get(segments.length);
    if (!list) this.bySegments.set(segments.length, (list = []));
    // Literal routes win over param routes with the same shape (e.g. /v2/models/x vs /v2/{...}).
    list.push(route);
    list.sort((a, b) => literalCount(b) - literalCount(a));
    this.cache.clear();
  }

  /** Finds the route for a path (no query string); throws 404 / 405 / 400 (bad percent-encoding) GroveErrors. */
  find(method: string, path: string): RouteMatch<T> {
    const key = method + path;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const m = this.match(method, path);
    if (this.cache.size < RouteTable.CACHE_SIZE) this.cache.set(key, m);
    return m;
  }

  /** Like find, but null where find throws (unknown path, other method, malformed encoding). */
  lookup(method: string, path: string): RouteMatch<T> | null {
    const hit = this.cache.get(method + path);
    if (hit !== undefined) return hit;
    try {
      return this.find(method, path);
    } catch {
      return null;
    }
  }

  private match(method: string, path: string): RouteMatch<T> {
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
        if (route.method === m)
          return { value: route.value, params, name: route.name, pattern: route.pattern };
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

function literalCount(r: Route<unknown>): number {
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
