// The jobs API's routes (docs/jobs.md), for the gateway's node:http server: `route()` answers the
// request and returns true when the path is a jobs route, false otherwise (the gateway serves it).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadInputError, GroveError, MethodNotAllowedError } from '../../shared/errors/grove-error.js';
import { NodeReply, type Reply, replyError, replyJson } from '../../shared/http/reply.js';
import { MAX_KEY_CHARS } from '../input/row-key.js';
import type { JobStatus } from '../store/job-store.js';
import type { JobStoreApi } from '../store/store-api.js';
import { publicJson } from './job-json.js';
import { notSucceeded, streamResults, wantsNdjson } from './results-stream.js';
import { type SubmitContext, submitJob } from './submit-job.js';

const SUBMIT_RE = /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+))?\/jobs$/;
const JOB_RE = /^\/v1\/jobs\/([^/]+)(\/results)?$/;
const LOOKUP_RE = /^\/v1\/models\/([^/:]+)\/predictions\/([^/]+)$/;
const REQUEST_ID_RE = /^[\x21-\x7e]{1,128}$/;
const JOB_ID_RE = /^[1-9][0-9]{0,17}$/;
const STATUSES = new Set<string>(['queued', 'running', 'succeeded', 'failed', 'cancelled']);

export interface RouteContext extends SubmitContext {
  /** A job was cancelled here. */
  cancelled(jobId: string): void;
}

/** Is this a jobs route? (Cheap: called for every request the gateway's node:http server gets.) */
export function isJobsPath(path: string): boolean {
  return path.startsWith('/v1/jobs')
    ? path === '/v1/jobs' || path.startsWith('/v1/jobs/')
    : path.startsWith('/v1/models/') && (path.endsWith('/jobs') || path.includes('/predictions/'));
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new BadInputError('malformed percent-encoding in the path', 'GROVE_ERR_BAD_PATH');
  }
}

function notFound(id: string): GroveError {
  return new GroveError(`job '${id.slice(0, 40)}' not found`, 'GROVE_ERR_JOB_NOT_FOUND');
}

/**
 * Serves a jobs route. `ctx` is null while the store is not open yet (or failed to open):
 * `unavailable` then says why.
 */
export async function serveJobs(
  ctx: RouteContext | null,
  unavailable: GroveError,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  const cid = req.headers['x-request-id'];
  const requestId = typeof cid === 'string' && REQUEST_ID_RE.test(cid) ? cid : randomUUID();
  const reply = new NodeReply(res);
  const method = req.method ?? 'GET';
  const isGet = method === 'GET' || method === 'HEAD';
  try {
    let m = SUBMIT_RE.exec(path);
    if (m) {
      if (method !== 'POST') throw new MethodNotAllowedError(method, ['POST']);
      if (!ctx) {
        res.shouldKeepAlive = false;
        throw unavailable;
      }
      await submitJob(
        ctx,
        req,
        res,
        decode(m[1]!),
        m[2] === undefined ? undefined : decode(m[2]),
        query,
        requestId,
      );
      return;
    }
    req.resume();
    if (!ctx) throw unavailable;
    const store = ctx.store;
    if (path === '/v1/jobs') {
      if (!isGet) throw new MethodNotAllowedError(method, ['GET']);
      replyJson(reply, 200, await list(store, query), requestId);
      return;
    }
    m = JOB_RE.exec(path);
    if (m) {
      const id = decode(m[1]!);
      if (m[2]) {
        if (!isGet) throw new MethodNotAllowedError(method, ['GET']);
        const job = JOB_ID_RE.test(id) ? await store.get(id) : null;
        if (!job) throw notFound(id);
        if (job.status !== 'succeeded') throw notSucceeded(job);
        await streamResults(store, job, res, wantsNdjson(req.headers.accept, query.get('format')), requestId);
        return;
      }
      if (method === 'DELETE') {
        const r = JOB_ID_RE.test(id) ? await store.cancel(id) : null;
        if (r === null) throw notFound(id);
        if (r === 'finished') throw new GroveError(`job ${id} has already ended`, 'GROVE_ERR_JOB_FINISHED');
        ctx.cancelled(id);
        ctx.ended(r);
        replyJson(reply, 200, publicJson(r), requestId);
        return;
      }
      if (!isGet) throw new MethodNotAllowedError(method, ['GET', 'DELETE']);
      const job = JOB_ID_RE.test(id) ? await store.get(id) : null;
      if (!job) throw notFound(id);
      replyJson(reply, 200, publicJson(job), requestId);
      return;
    }
    m = LOOKUP_RE.exec(path);
    if (m) {
      if (!isGet) throw new MethodNotAllowedError(method, ['GET']);
      await answerLookup(store, reply, decode(m[1]!), decode(m[2]!), requestId);
      return;
    }
    throw new GroveError(`no route for ${path.slice(0, 200)}`, 'GROVE_ERR_NOT_FOUND');
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    replyError(reply, err, requestId);
  }
}

/**
 * `GET /v1/models/{m}/predictions/{key}` (model and key decoded): through node:http here, and off
 * the gateway's fast front (JobsService.lookupFast), which is how it is served at rate.
 */
export async function answerLookup(
  store: JobStoreApi,
  reply: Reply,
  model: string,
  key: string,
  requestId: string,
): Promise<void> {
  const p = key.length <= MAX_KEY_CHARS ? await store.lookup(model, key) : null;
  if (!p)
    throw new GroveError(
      `no stored prediction of model '${model}' for key '${key.slice(0, 80)}'`,
      'GROVE_ERR_PREDICTION_NOT_FOUND',
    );
  const body: Record<string, unknown> = { key, model, model_version: p.version };
  p.outputNames.forEach((name, k) => {
    const x = p.outputs[k]!;
    body[name] = Number.isFinite(x) ? x : null;
  });
  body.job_id = p.jobId;
  body.scored_at = p.scoredAt;
  replyJson(reply, 200, body, requestId, ['x-grove-model', model, 'x-grove-model-version', p.version]);
}

async function list(store: JobStoreApi, q: URLSearchParams): Promise<Record<string, unknown>> {
  const limitText = q.get('limit') ?? '50';
  const limit = Number(limitText);
  if (!/^[0-9]{1,4}$/.test(limitText) || limit < 1 || limit > 1000)
    throw new BadInputError('limit must be an integer in 1..1000');
  const before = q.get('before') ?? undefined;
  if (before !== undefined && !JOB_ID_RE.test(before)) throw new BadInputError('before must be a job id');
  const status = q.get('status') ?? undefined;
  if (status !== undefined && !STATUSES.has(status))
    throw new BadInputError(`status must be one of ${[...STATUSES].join(', ')}`);
  const model = q.get('model') ?? undefined;
  const jobs = await store.list({ model, status: status as JobStatus | undefined, before, limit });
  let next: string | null = null;
  if (jobs.length === limit) {
    const n = new URLSearchParams(q);
    n.set('before', jobs[jobs.length - 1]!.id);
    next = `/v1/jobs?${n.toString()}`;
  }
  return { jobs: jobs.map(publicJson), next };
}
