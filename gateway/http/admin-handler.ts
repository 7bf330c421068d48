// The admin API (docs/api.md, Admin API) on its own listener: bearer token on every request
// (constant-time compare), `GET|PUT|DELETE /admin/models/{m}/split`, `GET /admin/workers`,
// `GET /admin/splits`, and routes other modules add (`AdminRoutes.add`). Validation failures are
// 400 and change nothing. Over TLS with a client CA, the TLS layer has already refused a client
// without a certificate that CA signed; the token is still required.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BadJsonError,
  GroveError,
  ModelNotFoundError,
  UnauthorizedError,
} from '../../shared/errors/grove-error.js';
import { readBody } from '../../shared/http/read-body.js';
import { NodeReply, replyError, replyJson } from '../../shared/http/reply.js';
import { requestIdOf } from '../../shared/http/request-id.js';
import { type RouteParams, RouteTable } from '../../shared/http/router.js';
import { parseSplit } from '../split/split-config.js';
import type { SplitRegistry } from '../split/split-registry.js';
import type { WorkerSet } from '../upstream/worker-set.js';

/** An admin route: answers through `res` (or returns a promise that rejects with the error to answer). */
export type AdminRouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: RouteParams,
  requestId: string,
) => unknown;

export function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7).trim());
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export class AdminRoutes {
  private readonly table = new RouteTable<AdminRouteHandler>();

  constructor(
    private readonly workers: WorkerSet,
    private readonly splits: SplitRegistry,
    private readonly token: string,
  ) {
    this.add('GET', '/admin/workers', (_q, res, _p, id) => this.listWorkers(res, id));
    this.add('GET', '/admin/splits', (_q, res, _p, id) =>
      replyJson(new NodeReply(res), 200, { splits: this.splits.all() }, id),
    );
    this.add('GET', '/admin/models/{model}/split', (_q, res, p, id) => this.getSplit(res, p.model!, id));
    this.add('PUT', '/admin/models/{model}/split', (q, res, p, id) => this.putSplit(q, res, p.model!, id));
    this.add('DELETE', '/admin/models/{model}/split', async (_q, res, p, id) => {
      await this.splits.set(p.model!, null);
      replyJson(new NodeReply(res), 200, { model: p.model, deleted: true }, id);
    });
  }

  add(method: string, pattern: string, handler: AdminRouteHandler): void {
    this.table.add(method, pattern, handler);
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    // Every response carries x-request-id (the client's, or a new one): docs/api.md, Tracing.
    const id = requestIdOf(req.headers);
    const reply = new NodeReply(res);
    if (!tokenMatches(req.headers.authorization, this.token)) {
      req.resume();
      replyError(reply, new UnauthorizedError(), id);
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    try {
      const m = this.table.find(req.method ?? 'GET', path);
      const r = m.value(req, res, m.params, id);
      if (r instanceof Promise) r.catch((err) => replyError(reply, err, id));
    } catch (err) {
      req.resume();
      replyError(reply, err, id);
    }
  };

  private listWorkers(res: ServerResponse, id: string): void {
    const now = this.workers.now();
    replyJson(
      new NodeReply(res),
      200,
      {
        workers: this.workers.all.map((w) => ({
          id: w.id,
          name: w.name,
          url: w.url,
          pid: w.pid ?? null,
          versions: w.versionsRecord(),
          healthy: w.healthy,
          outstanding: w.outstandingRows,
          outstandingCalls: w.outstanding,
          latencyMs: Number(w.latencyMs.toFixed(3)),
          ejected: w.outlier.isEjected(now),
          ejections: w.outlier.ejections,
          requests: w.requests,
          failures: w.failures,
          connections: w.data.connections,
          queued: w.data.queued,
        })),
      },
      id,
    );
  }

  private getSplit(res: ServerResponse, model: string, id: string): void {
    const s = this.splits.get(model);
    if (!s)
      throw new GroveError(
        `model '${model}' has no split (it serves its latest version)`,
        'GROVE_ERR_NO_SPLIT',
      );
    replyJson(new NodeReply(res), 200, { model, ...s.config }, id);
  }

  private async putSplit(
    req: IncomingMessage,
    res: ServerResponse,
    model: string,
    id: string,
  ): Promise<void> {
    const raw = await readBody(req, 64 * 1024);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new BadJsonError();
    }
    const known = this.workers.versionsOf(model);
    // Name the model, not its versions, when no worker serves it at all.
    if (!known) throw new ModelNotFoundError(model);
    const cfg = parseSplit(body, (v) => known?.has(v) === true);
    await this.splits.set(model, cfg);
    replyJson(new NodeReply(res), 200, { model, ...cfg }, id);
  }
}
