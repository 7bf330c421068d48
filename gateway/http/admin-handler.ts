// The admin API (DESIGN.md, Gateway admin) on its own listener: bearer token on every request
// (constant-time compare), `GET|PUT|DELETE /admin/models/{m}/split`, `GET /admin/workers`,
// `GET /admin/splits`. Validation failures are 400 and change nothing.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BadJsonError,
  GroveError,
  MethodNotAllowedError,
  ModelNotFoundError,
  RouteNotFoundError,
  UnauthorizedError,
} from '../../shared/errors/grove-error.js';
import { parseSplit } from '../split/split-config.js';
import type { SplitRegistry } from '../split/split-registry.js';
import type { WorkerSet } from '../upstream/worker-set.js';
import { readBody } from './read-body.js';
import { sendError, sendJson } from './send.js';

const SPLIT_RE = /^\/admin\/models\/([^/]+)\/split$/;

export function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7).trim());
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export function adminHandler(workers: WorkerSet, splits: SplitRegistry, token: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    // DESIGN.md, Tracing: every response carries x-request-id (the client's, or a new one).
    const cid = req.headers['x-request-id'];
    res.setHeader(
      'x-request-id',
      typeof cid === 'string' && /^[\x21-\x7e]{1,200}$/.test(cid) ? cid : randomUUID(),
    );
    if (!tokenMatches(req.headers.authorization, token)) {
      req.resume();
      sendError(res, new UnauthorizedError(), undefined);
      return;
    }
    handle(req, res).catch((err) => sendError(res, err));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/admin/workers') {
      if (req.method !== 'GET') throw new MethodNotAllowedError(req.method ?? '', ['GET']);
      const now = workers.now();
      sendJson(res, 200, {
        workers: workers.all.map((w) => ({
          id: w.id,
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
        })),
      });
      return;
    }
    if (path === '/admin/splits') {
      sendJson(res, 200, { splits: splits.all() });
      return;
    }
    const m = SPLIT_RE.exec(path);
    if (!m) throw new RouteNotFoundError(path);
    let model: string;
    try {
      model = decodeURIComponent(m[1]!);
    } catch {
      model = m[1]!;
    }
    if (req.method === 'GET') {
      const s = splits.get(model);
      if (!s)
        throw new GroveError(
          `model '${model}' has no split (it serves its latest version)`,
          'GROVE_ERR_NO_SPLIT',
        );
      sendJson(res, 200, { model, ...s.config });
      return;
    }
    if (req.method === 'PUT') {
      const raw = await readBody(req, 64 * 1024);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new BadJsonError();
      }
      const known = workers.versionsOf(model);
      // Name the model, not its versions, when no worker serves it at all.
      if (!known) throw new ModelNotFoundError(model);
      const cfg = parseSplit(body, (v) => known?.has(v) === true);
      await splits.set(model, cfg);
      sendJson(res, 200, { model, ...cfg });
      return;
    }
    if (req.method === 'DELETE') {
      await splits.set(model, null);
      sendJson(res, 200, { model, deleted: true });
      return;
    }
    throw new MethodNotAllowedError(req.method ?? '', ['GET', 'PUT', 'DELETE']);
  }
}
