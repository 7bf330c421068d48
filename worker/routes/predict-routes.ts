// The two prediction protocols: Open Inference Protocol `/v2/models/{m}[/versions/{v}]/infer` and
// TF Serving style `/v1/models/{m}[/versions/{v}]:predict`, each optionally with per-feature
// contributions (docs/explanations.md). This is the hot path: parse once,
// predict inline (or on the pool for big requests), answer with one string. Each protocol is one
// answer function shared by the fast front (raw socket, body already read) and node:http.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { BadInputError, BadJsonError } from '../../shared/errors/grove-error.js';
import { readBody } from '../../shared/http/read-body.js';
import { sendModelJson } from '../http/respond.js';
import type { RequestContext, RouteParams, Router } from '../http/router.js';
import { parseBinaryRequest } from '../protocol/binary-tensors.js';
import { parsePredictRequest } from '../protocol/instances-input.js';
import type { ParsedRows } from '../protocol/parsed-rows.js';
import { inferResponse, predictResponse } from '../protocol/prediction-output.js';
import { type InferRequest, parseInferRequest } from '../protocol/tensor-input.js';
import type { LoadedVersion } from '../repository/loaded-version.js';
import type { WorkerContext } from '../worker-context.js';

export interface InferRun {
  p: InferRequest;
  /** Outputs per row. */
  width: number;
  /** Inline: a scratch view, valid until the next request (serialise it first); pool: a promise. */
  out: Float64Array | Promise<Float64Array>;
}

/**
 * An Open Inference Protocol request (the REST body, or what a gRPC ModelInferRequest decodes
 * to) parsed and predicted on one version: the one path REST and gRPC inference share.
 */
export function inferOn(
  w: WorkerContext,
  v: LoadedVersion,
  body: unknown,
  ctx: Pick<RequestContext, 'requestId' | 'requestIds' | 'trace'>,
): InferRun {
  const p = parseInferRequest(body, v, w.maxRows, w.predictor.inlineRowThreshold);
  // Only the REST answer carries the contributions tensor (inferAnswer below).
  if (p.contributions)
    throw new BadInputError(
      'contributions are answered by the HTTP endpoints (POST /v2/models/{m}/infer, /v1/models/{m}:predict)',
    );
  return runInfer(w, v, p, ctx);
}

function runInfer(
  w: WorkerContext,
  v: LoadedVersion,
  p: InferRequest,
  ctx: Pick<RequestContext, 'requestId' | 'requestIds' | 'trace'>,
): InferRun {
  const width = p.raw ? v.numRawOutputs : v.numOutputs;
  return { p, width, out: w.predictor.run(v, p, ctx.requestId, ctx.requestIds, ctx.trace) };
}

function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw new BadJsonError();
  }
}

/**
 * A request that asked for contributions too: refused before any work when the model cannot be
 * explained; then contributions and prediction, both started before anything awaits (inline rows
 * and results live in scratch buffers the next request reuses: whatever must outlive an await is
 * copied first), then one answer.
 */
function withContributions(
  w: WorkerContext,
  v: LoadedVersion,
  p: ParsedRows,
  ctx: RequestContext,
  answer: (out: Float64Array, contributions: Float64Array) => string,
): string | Promise<string> {
  const c = w.predictor.contributions(v, p);
  const out = w.predictor.run(v, p, ctx.requestId, ctx.requestIds, ctx.trace);
  if (!(c instanceof Promise) && !(out instanceof Promise)) return answer(out, c);
  const kept = [c instanceof Promise ? c : c.slice(), out instanceof Promise ? out : out.slice()] as const;
  return Promise.all(kept).then(([contrib, o]) => answer(o, contrib));
}

export function addPredictRoutes(router: Router, w: WorkerContext): void {
  const inferAnswer = (
    params: RouteParams,
    headers: IncomingHttpHeaders,
    buf: Buffer,
    ctx: RequestContext,
  ): string | Promise<string> => {
    const v = w.repository.resolve(params.model!, params.version);
    ctx.served = v;
    // Triton's binary tensor extension: a JSON header of this length, then raw tensor bytes.
    const binary = headers['inference-header-content-length'];
    const body = binary === undefined ? parseJson(buf) : parseBinaryRequest(buf, Number(binary));
    const parsed = parseInferRequest(body, v, w.maxRows, w.predictor.inlineRowThreshold);
    if (parsed.contributions) {
      const width = parsed.raw ? v.numRawOutputs : v.numOutputs;
      return withContributions(w, v, parsed, ctx, (o, c) =>
        inferResponse(v, parsed.id, o, parsed.rows, width, {
          data: c,
          prediction: parsed.prediction !== false,
        }),
      );
    }
    const { p, width, out } = runInfer(w, v, parsed, ctx);
    if (out instanceof Promise) return out.then((o) => inferResponse(v, p.id, o, p.rows, width));
    return inferResponse(v, p.id, out, p.rows, width);
  };
  const predictAnswer = (
    params: RouteParams,
    _headers: IncomingHttpHeaders,
    buf: Buffer,
    ctx: RequestContext,
  ): string | Promise<string> => {
    const v = w.repository.resolve(params.model!, params.version);
    ctx.served = v;
    const p = parsePredictRequest(parseJson(buf), v, w.maxRows, w.predictor.inlineRowThreshold);
    const width = p.raw ? v.numRawOutputs : v.numOutputs;
    if (p.contributions)
      return withContributions(w, v, p, ctx, (o, c) => predictResponse(v, o, p.rows, width, c));
    const out = w.predictor.run(v, p, ctx.requestId, ctx.requestIds, ctx.trace);
    if (out instanceof Promise) return out.then((o) => predictResponse(v, o, p.rows, width));
    return predictResponse(v, out, p.rows, width);
  };
  const viaNode =
    (answer: typeof inferAnswer) =>
    async (req: IncomingMessage, res: ServerResponse, params: RouteParams, ctx: RequestContext) => {
      const buf = await readBody(req, w.maxBodyBytes);
      const a = answer(params, req.headers, buf, ctx);
      const text = typeof a === 'string' ? a : await a;
      sendModelJson(res, 200, text, ctx.requestId, ctx.served as LoadedVersion);
      return 200;
    };
  const infer = viaNode(inferAnswer);
  const predict = viaNode(predictAnswer);
  router.add('POST', '/v2/models/{model}/infer', infer, 'infer', inferAnswer);
  router.add('POST', '/v2/models/{model}/versions/{version}/infer', infer, 'infer', inferAnswer);
  router.add('POST', '/v1/models/{model}:predict', predict, 'predict', predictAnswer);
  router.add('POST', '/v1/models/{model}/versions/{version}:predict', predict, 'predict', predictAnswer);
}
