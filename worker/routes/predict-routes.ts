// The two prediction protocols: Open Inference Protocol `/v2/models/{m}[/versions/{v}]/infer` and
// TF Serving style `/v1/models/{m}[/versions/{v}]:predict`. This is the hot path: parse once,
// predict inline (or on the pool for big requests), answer with one string. Each protocol is one
// answer function shared by the fast front (raw socket, body already read) and node:http.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { BadJsonError } from '../../shared/errors/grove-error.js';
import { readBody } from '../../shared/http/read-body.js';
import { sendModelJson } from '../http/respond.js';
import type { RequestContext, RouteParams, Router } from '../http/router.js';
import { parseBinaryRequest } from '../protocol/binary-tensors.js';
import { parsePredictRequest } from '../protocol/instances-input.js';
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
    const { p, width, out } = inferOn(w, v, body, ctx);
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
