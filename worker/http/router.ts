// The worker's routes: the shared route table (shared/http/router.ts) holding node:http handlers
// and, for POST routes whose answer is one JSON body, a fast-front handler too. Modules add routes
// (the monitor's `GET /v2/models/{m}/versions/{v}/monitor`, batch streams) through `add`.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { type RouteParams, RouteTable } from '../../shared/http/router.js';
import type { RequestTrace } from '../../shared/tracing/tracing.js';

export type { RouteParams } from '../../shared/http/router.js';

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

export interface WorkerRoute {
  handler: RouteHandler;
  fast: FastRouteHandler | null;
}

export interface RouteMatch {
  handler: RouteHandler;
  params: RouteParams;
  name: string;
  fast: FastRouteHandler | null;
}

export class Router {
  private readonly table = new RouteTable<WorkerRoute>();

  /** `fast`, for POST routes whose answer is one JSON body, lets the fast front serve them too. */
  add(
    method: string,
    pattern: string,
    handler: RouteHandler,
    name = pattern,
    fast: FastRouteHandler | null = null,
  ): void {
    this.table.add(method, pattern, { handler, fast }, name);
  }

  /** Finds the handler for a path (no query string); throws 404 / 405 / 400 GroveErrors. */
  find(method: string, path: string): RouteMatch {
    const m = this.table.find(method, path);
    return { handler: m.value.handler, params: m.params, name: m.name, fast: m.value.fast };
  }

  /** The fast handler for a POST path, or null (node:http then serves or refuses it). */
  findFast(path: string): { fast: FastRouteHandler; params: RouteParams; name: string } | null {
    const m = this.table.lookup('POST', path);
    if (m === null || m.value.fast === null) return null;
    return { fast: m.value.fast, params: m.params, name: m.name };
  }
}
