// The two prediction protocols: Open Inference Protocol `/v2/models/{m}[/versions/{v}]/infer` and
// TF Serving style `/v1/models/{m}[/versions/{v}]:predict`. This is the hot path: parse once,
// predict inline (or on the pool for big requests), write the answer with one res.end(string).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadJsonError } from '../../shared/errors/grove-error.js';
import { readBody, readBodyBuffer } from '../http/read-body.js';
import { sendModelJson } from '../http/respond.js';
import type { RequestContext, RouteParams, Router } from '../http/router.js';
import { parseBinaryRequest } from '../protocol/binary-tensors.js';
import { parsePredictRequest } from '../protocol/instances-input.js';
import { inferResponse, predictResponse } from '../protocol/prediction-output.js';
import { parseInferRequest } from '../protocol/tensor-input.js';
import type { WorkerContext } from '../worker-context.js';

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadJsonError();
  }
}

export function addPredictRoutes(router: Router, w: WorkerContext): void {
  const infer = async (
    req: IncomingMessage,
    res: ServerResponse,
    params: RouteParams,
    ctx: RequestContext,
  ) => {
    const binary = req.headers['inference-header-content-length'];
    const buf = await readBodyBuffer(req, w.maxBodyBytes);
    const v = w.repository.resolve(params.model!, params.version);
    ctx.served = v;
    const body =
      binary === undefined ? parseJson(buf.toString('utf8')) : parseBinaryRequest(buf, Number(binary));
    const p = parseInferRequest(body, v, w.maxRows, w.predictor.inlineRowThreshold);
    let out = w.predictor.run(v, p, ctx.requestId, ctx.requestIds);
    if (out instanceof Promise) out = await out;
    sendModelJson(
      res,
      200,
      inferResponse(v, p.id, out, p.rows, p.raw ? v.numRawOutputs : v.numOutputs),
      ctx.requestId,
      v,
    );
    return 200;
  };
  const predict = async (
    req: IncomingMessage,
    res: ServerResponse,
    params: RouteParams,
    ctx: RequestContext,
  ) => {
    const text = await readBody(req, w.maxBodyBytes);
    const v = w.repository.resolve(params.model!, params.version);
    ctx.served = v;
    const p = parsePredictRequest(parseJson(text), v, w.maxRows, w.predictor.inlineRowThreshold);
    let out = w.predictor.run(v, p, ctx.requestId, ctx.requestIds);
    if (out instanceof Promise) out = await out;
    sendModelJson(
      res,
      200,
      predictResponse(v, out, p.rows, p.raw ? v.numRawOutputs : v.numOutputs),
      ctx.requestId,
      v,
    );
    return 200;
  };
  router.add('POST', '/v2/models/{model}/infer', infer, 'infer');
  router.add('POST', '/v2/models/{model}/versions/{version}/infer', infer, 'infer');
  router.add('POST', '/v1/models/{model}:predict', predict, 'predict');
  router.add('POST', '/v1/models/{model}/versions/{version}:predict', predict, 'predict');
}
