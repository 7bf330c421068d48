// Health, server and model metadata, and /metrics (open_inference_rest.yaml: server live/ready,
// server metadata, model [version] ready and metadata). Model metadata follows
// metadata_model_response (name, versions, platform, inputs, outputs) and adds grove's feature and
// output names, every version's state with the reason of a failure, and tree models' feature
// importance from the file (docs/explanations.md).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { groveVersion } from '../../shared/build-info.js';
import {
  ExplainUnavailableError,
  ModelNotFoundError,
  VersionNotFoundError,
} from '../../shared/errors/grove-error.js';
import { type FileImportance, fileImportance } from '../../shared/runtime/explain/importance.js';
import { assertExplainable } from '../../shared/runtime/explain/index.js';
import { sendJson, sendModelJson } from '../http/respond.js';
import type { RequestContext, RouteParams, Router } from '../http/router.js';
import { OUTPUT_NAME } from '../protocol/tensor-input.js';
import type { LoadedVersion, VersionSlot } from '../repository/loaded-version.js';
import type { ModelEntry } from '../repository/model-entry.js';
import type { WorkerContext } from '../worker-context.js';

/** Server metadata (GET /v2, gRPC ServerMetadata). */
export function serverMetadata(w: WorkerContext): { name: string; version: string; extensions: string[] } {
  return { name: 'grove', version: groveVersion, extensions: w.extensions };
}

/** XGBoost and scikit-learn trees compare float32 features; the other models compute in double. */
function inputDatatype(v: LoadedVersion): 'FP32' | 'FP64' {
  const m = v.model.meta;
  if (m.library === 'xgboost') return 'FP32';
  if (m.library === 'sklearn' && /Tree|Forest|Boosting|Trees/.test(m.objective)) return 'FP32';
  return 'FP64';
}

function slotStatus(s: VersionSlot): Record<string, unknown> {
  const v = s.serving;
  return {
    version: s.version,
    state: s.state,
    reason: s.reason,
    sha256: v?.sha256 ?? null,
    platform: v?.model.meta.platform ?? null,
    loaded_at: v ? new Date(v.loadedAt).toISOString() : null,
  };
}

/** The one input and the one output tensor of a version (OIP metadata_model_response). */
export function versionTensors(v: LoadedVersion): {
  input: { name: string; datatype: 'FP32' | 'FP64'; shape: number[] };
  output: { name: string; datatype: 'FP64'; shape: number[] };
} {
  const k = v.model.meta.outputNames.length;
  return {
    input: v.sparse
      ? { name: 'input-0', datatype: 'FP64', shape: [-1, -1] }
      : { name: 'input-0', datatype: inputDatatype(v), shape: [-1, v.numFeatures] },
    output: { name: OUTPUT_NAME, datatype: 'FP64', shape: k === 1 ? [-1] : [-1, k] },
  };
}

function versionMetadata(v: LoadedVersion): Record<string, unknown> {
  const m = v.model.meta;
  const t = versionTensors(v);
  return {
    platform: m.platform,
    inputs: [m.sparse ? t.input : { ...t.input, feature_names: v.featureNames }],
    outputs: [{ ...t.output, output_names: m.outputNames }],
    feature_names: v.featureNames,
    output_names: m.outputNames,
    raw_output_names: m.rawOutputNames,
    classes: m.classes,
    task: m.task,
    library: m.library,
    objective: m.objective,
    sparse: m.sparse,
    sha256: v.sha256,
    importance: importanceOf(v),
    contributions: contributionsInfo(v),
  };
}

/** Whether the `contributions` output is available, its shape, or the code saying why not. */
function contributionsInfo(v: LoadedVersion): Record<string, unknown> {
  try {
    assertExplainable(v.model);
    return { available: true, shape: [-1, v.numRawOutputs * (v.numFeatures + 1)] };
  } catch (err) {
    if (!(err instanceof ExplainUnavailableError)) throw err;
    return { available: false, code: err.code, reason: err.message };
  }
}

const importanceCache = new WeakMap<LoadedVersion, FileImportance[] | null>();

/**
 * Per feature: splits using it and their summed gain, from the model file (tree models; null
 * otherwise). Named after the served feature names (config.json `features` may rename them).
 */
function importanceOf(v: LoadedVersion): FileImportance[] | null {
  let imp = importanceCache.get(v);
  if (imp === undefined) {
    imp = fileImportance(v.model)?.map((i, f) => ({ ...i, name: v.featureNames[f] ?? i.name })) ?? null;
    importanceCache.set(v, imp);
  }
  return imp;
}

export function addInfoRoutes(router: Router, w: WorkerContext): void {
  const entry = (name: string): ModelEntry => {
    const e = w.repository.models.get(name);
    if (!e) throw new ModelNotFoundError(name);
    return e;
  };

  router.add(
    'GET',
    '/v2',
    (_q, res, _p, ctx) => sendJson(res, 200, JSON.stringify(serverMetadata(w)), ctx.requestId),
    'server',
  );
  router.add(
    'GET',
    '/v2/health/live',
    (_q, res, _p, ctx) => sendJson(res, 200, '{"live":true}', ctx.requestId),
    'health',
  );
  router.add(
    'GET',
    '/v2/health/ready',
    (_q, res, _p, ctx) => {
      const ready = w.repository.ready && !w.draining;
      sendJson(res, ready ? 200 : 503, JSON.stringify({ ready }), ctx.requestId);
      return ready ? 200 : 503;
    },
    'health',
  );
  router.add(
    'GET',
    '/v2/models',
    (_q, res, _p, ctx) => {
      const reasons = w.repository.unavailableReasons();
      const models = [...w.repository.models.values()]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((e) => {
          const versions = e.readyVersions();
          const reason = reasons[e.name];
          return reason === undefined ? { name: e.name, versions } : { name: e.name, versions, reason };
        });
      // What the repository's layout serves nothing from (layout-problems.ts), when anything.
      const problems = w.repository.problems;
      sendJson(
        res,
        200,
        JSON.stringify(problems.length > 0 ? { models, problems } : { models }),
        ctx.requestId,
      );
    },
    'metadata',
  );

  const modelReady = (_q: IncomingMessage, res: ServerResponse, p: RouteParams, ctx: RequestContext) => {
    const e = entry(p.model!);
    let v: LoadedVersion | null = null;
    if (p.version === undefined) v = e.latest;
    else {
      const s = e.slots.get(p.version);
      if (!s || s.state === 'UNLOADING') throw new VersionNotFoundError(p.model!, p.version);
      v = s.serving;
    }
    const body = JSON.stringify({
      name: e.name,
      version: v?.version ?? p.version ?? null,
      ready: v !== null,
    });
    if (v === null) {
      sendJson(res, 503, body, ctx.requestId);
      return 503;
    }
    ctx.served = v;
    sendModelJson(res, 200, body, ctx.requestId, v);
    return 200;
  };
  router.add('GET', '/v2/models/{model}/ready', modelReady, 'ready');
  router.add('GET', '/v2/models/{model}/versions/{version}/ready', modelReady, 'ready');

  router.add(
    'GET',
    '/v2/models/{model}',
    (_q, res, p, ctx) => {
      const e = entry(p.model!);
      const v = e.latest;
      const body: Record<string, unknown> = {
        name: e.name,
        versions: e.readyVersions(),
        ...(v ? versionMetadata(v) : { platform: '', inputs: [], outputs: [] }),
        latest_version: v?.version ?? null,
        version_states: e.sortedSlots().map(slotStatus),
      };
      if (e.configError) body.config_error = e.configError;
      if (v) {
        ctx.served = v;
        sendModelJson(res, 200, JSON.stringify(body), ctx.requestId, v);
      } else sendJson(res, 200, JSON.stringify(body), ctx.requestId);
    },
    'metadata',
  );
  router.add(
    'GET',
    '/v2/models/{model}/versions/{version}',
    (_q, res, p, ctx) => {
      const e = entry(p.model!);
      const s = e.slots.get(p.version!);
      if (!s) throw new VersionNotFoundError(p.model!, p.version!);
      const v = s.serving;
      const body: Record<string, unknown> = {
        name: e.name,
        versions: [s.version],
        ...(v ? versionMetadata(v) : { platform: '', inputs: [], outputs: [] }),
        state: s.state,
        reason: s.reason,
      };
      if (v) {
        ctx.served = v;
        sendModelJson(res, 200, JSON.stringify(body), ctx.requestId, v);
      } else sendJson(res, 200, JSON.stringify(body), ctx.requestId);
    },
    'metadata',
  );

  router.add(
    'GET',
    '/metrics',
    async (_q, res, _p, ctx) => {
      const text = await w.metrics.registry.metrics();
      res.writeHead(200, ['content-type', w.metrics.registry.contentType, 'x-request-id', ctx.requestId]);
      res.end(text);
    },
    'metrics',
  );
}
