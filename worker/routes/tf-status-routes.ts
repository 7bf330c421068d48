// TF Serving's REST model status and metadata (tensorflow/serving, api_rest.md: Model status API,
// Model Metadata API), so TF Serving clients and health checks that poll them work against grove:
// `GET /v1/models/{m}[/versions/{v}]` answers `{"model_version_status": [{version, state, status:
// {error_code, error_message}}]}` and `.../metadata` a `model_spec` with the `serving_default`
// signature. grove's version states map onto TF Serving's: READY is AVAILABLE, a failed load END
// with error_code UNKNOWN and the reason.
import { ModelNotFoundError, VersionNotFoundError } from '../../shared/errors/grove-error.js';
import { sendJson, sendModelJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import type { LoadedVersion, VersionSlot } from '../repository/loaded-version.js';
import type { ModelEntry } from '../repository/model-repository.js';
import type { WorkerContext } from '../worker-context.js';
import { versionTensors } from './info-routes.js';

const TF_STATE: Record<VersionSlot['state'], string> = {
  LOADING: 'LOADING',
  READY: 'AVAILABLE',
  FAILED: 'END',
  UNLOADING: 'UNLOADING',
};

function versionStatus(s: VersionSlot): Record<string, unknown> {
  // A slot still serving an older load after a failed reload is AVAILABLE: it answers.
  const failed = s.state === 'FAILED';
  return {
    version: s.version,
    state: TF_STATE[s.state],
    status: { error_code: failed ? 'UNKNOWN' : 'OK', error_message: failed ? (s.reason ?? '') : '' },
  };
}

const TF_DTYPE = { FP32: 'DT_FLOAT', FP64: 'DT_DOUBLE' } as const;

function tensorInfo(t: {
  name: string;
  datatype: 'FP32' | 'FP64';
  shape: number[];
}): Record<string, unknown> {
  return {
    dtype: TF_DTYPE[t.datatype],
    tensor_shape: { dim: t.shape.map((d) => ({ size: String(d), name: '' })), unknown_rank: false },
    name: t.name,
  };
}

function metadata(v: LoadedVersion): string {
  const t = versionTensors(v);
  return JSON.stringify({
    model_spec: { name: v.name, signature_name: '', version: v.version },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: {
            inputs: { [t.input.name]: tensorInfo(t.input) },
            outputs: { [t.output.name]: tensorInfo(t.output) },
            method_name: 'tensorflow/serving/predict',
          },
        },
      },
    },
  });
}

export function addTfStatusRoutes(router: Router, w: WorkerContext): void {
  const entry = (name: string): ModelEntry => {
    const e = w.repository.models.get(name);
    if (e === undefined) throw new ModelNotFoundError(name);
    return e;
  };
  router.add(
    'GET',
    '/v1/models/{model}',
    (_q, res, p, ctx) => {
      const slots = [...entry(p.model!).slots.values()].sort((a, b) => Number(b.version) - Number(a.version));
      sendJson(res, 200, JSON.stringify({ model_version_status: slots.map(versionStatus) }), ctx.requestId);
    },
    'tf_status',
  );
  router.add(
    'GET',
    '/v1/models/{model}/versions/{version}',
    (_q, res, p, ctx) => {
      const s = entry(p.model!).slots.get(p.version!);
      if (s === undefined) throw new VersionNotFoundError(p.model!, p.version!);
      sendJson(res, 200, JSON.stringify({ model_version_status: [versionStatus(s)] }), ctx.requestId);
    },
    'tf_status',
  );
  const meta = (
    _q: unknown,
    res: Parameters<typeof sendJson>[0],
    p: Record<string, string>,
    ctx: { requestId: string; served: unknown },
  ) => {
    const v = w.repository.resolve(p.model!, p.version);
    ctx.served = v;
    sendModelJson(res, 200, metadata(v), ctx.requestId, v);
  };
  router.add('GET', '/v1/models/{model}/metadata', meta, 'tf_metadata');
  router.add('GET', '/v1/models/{model}/versions/{version}/metadata', meta, 'tf_metadata');
}
