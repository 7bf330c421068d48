// The model repository API (Triton's extension, extension_model_repository.md) on the worker:
// `POST /v2/repository/index`, `POST /v2/repository/models/{m}/load` (optionally with a config and
// files, see model-upload.ts) and `.../unload`. The routes exist only when the worker has an admin
// token (--admin-token or GROVE_ADMIN_TOKEN), and every call must carry it as a bearer token:
// loading a file is running the model loader on it. A load answers once every version was tried
// through the ordinary load path; a load whose upload fails to load is undone, so a bad file
// changes nothing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  BadInputError,
  BadJsonError,
  GroveError,
  ModelNotFoundError,
  UnauthorizedError,
} from '../../shared/errors/grove-error.js';
import { readBody } from '../../shared/http/read-body.js';
import { sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import { loadModel, unloadModel } from '../repository/model-control.js';
import type { ModelEntry } from '../repository/model-repository.js';
import { MODEL_NAME } from '../repository/scan-repository.js';
import type { WorkerContext } from '../worker-context.js';
import { readUpload, type Upload, writeUpload } from './model-upload.js';

export interface RepositoryApiOptions {
  token: string;
  root: string;
  /** Largest load request (JSON with base64 files) accepted: 413 above it. */
  maxUploadBytes: number;
  /** How long a load or unload may take before it answers 504. */
  timeoutMs: number;
  settleMs: number;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

async function jsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const buf = await readBody(req, limit);
  if (buf.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new BadJsonError();
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new BadInputError('body must be a JSON object');
  return v as Record<string, unknown>;
}

function versionStates(e: ModelEntry): Array<{ version: string; state: string; reason: string }> {
  return [...e.slots.values()]
    .sort((a, b) => Number(a.version) - Number(b.version))
    .map((s) => ({ version: s.version, state: s.state, reason: s.reason ?? '' }));
}

export function addRepositoryRoutes(router: Router, w: WorkerContext, o: RepositoryApiOptions): void {
  const want = digest(o.token);
  const authorize = (req: IncomingMessage): void => {
    const h = req.headers.authorization;
    const given = typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : '';
    if (!timingSafeEqual(digest(given), want)) throw new UnauthorizedError();
  };
  const modelName = (m: string): string => {
    if (!MODEL_NAME.test(m)) throw new BadInputError(`'${m.slice(0, 40)}' is not a valid model name`);
    return m;
  };
  w.extensions.push('model_repository');
  // One load or unload of a model at a time: two uploads of one model must not interleave renames.
  const busy = new Map<string, Promise<unknown>>();
  const serial = <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const prev = busy.get(name) ?? Promise.resolve();
    const next = prev.then(f, f);
    const settled = next.catch(() => {});
    busy.set(name, settled);
    void settled.then(() => {
      if (busy.get(name) === settled) busy.delete(name);
    });
    return next;
  };

  router.add(
    'POST',
    '/v2/repository/index',
    async (req, res, _p, ctx) => {
      authorize(req);
      const body = await jsonBody(req, 64 * 1024);
      const onlyReady = body.ready === true;
      const out: Array<Record<string, string>> = [];
      for (const e of [...w.repository.models.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (w.repository.held.has(e.name) && e.slots.size === 0) {
          if (!onlyReady) out.push({ name: e.name, state: 'UNAVAILABLE', reason: 'unloaded' });
          continue;
        }
        for (const s of versionStates(e)) {
          if (onlyReady && s.state !== 'READY') continue;
          out.push({ name: e.name, ...s });
        }
      }
      sendJson(res, 200, JSON.stringify(out), ctx.requestId);
    },
    'repository',
  );

  router.add(
    'POST',
    '/v2/repository/models/{model}/load',
    async (req, res, p, ctx) => {
      authorize(req);
      ctx.streaming = true; // bounded by o.timeoutMs below, not by the request timeout
      const name = modelName(p.model!);
      const body = await jsonBody(req, o.maxUploadBytes);
      const upload = readUpload(body.parameters);
      const states = await serial(name, () => load(name, upload));
      w.logger.info(
        { event: 'repository_load', model: name, uploaded: upload.files.size > 0 || upload.config !== null },
        'model loaded through the repository API',
      );
      sendJson(res, 200, JSON.stringify({ name, versions: states }), ctx.requestId);
    },
    'repository',
  );

  /** Writes an upload (if any), loads the model, and undoes the upload if a version failed. */
  async function load(name: string, upload: Upload): Promise<ReturnType<typeof versionStates>> {
    const written =
      upload.config !== null || upload.files.size > 0 ? await writeUpload(o.root, name, upload) : null;
    try {
      let states: ReturnType<typeof versionStates>;
      try {
        states = versionStates(await loadModel(w.repository, o.root, name, o.timeoutMs, o.settleMs));
      } catch (err) {
        if (written !== null) {
          await written.undo();
          await w.repository.rescan();
        }
        throw err;
      }
      const failed = states.filter((s) => s.state === 'FAILED' || s.reason !== '');
      if (states.length > 0 && failed.length === 0) return states;
      if (written !== null) {
        await written.undo();
        await w.repository.rescan();
      }
      const why =
        states.length === 0
          ? `model '${name}' has no version folder with a model file`
          : failed.map((s) => `version ${s.version}: ${s.reason}`).join('; ');
      throw new GroveError(
        `model '${name}' failed to load${written !== null ? ' (the upload was undone)' : ''}: ${why}`,
        'GROVE_ERR_LOAD_FAILED',
      );
    } finally {
      await written?.done(); // only now: undo needs what was moved aside
    }
  }

  router.add(
    'POST',
    '/v2/repository/models/{model}/unload',
    async (req, res, p, ctx) => {
      authorize(req);
      ctx.streaming = true; // bounded by o.timeoutMs below, not by the request timeout
      const name = modelName(p.model!);
      await jsonBody(req, 64 * 1024);
      await serial(name, () => {
        if (!w.repository.models.has(name)) throw new ModelNotFoundError(name);
        return unloadModel(w.repository, name, o.timeoutMs);
      });
      w.logger.info({ event: 'repository_unload', model: name }, 'model unloaded through the repository API');
      sendJson(res, 200, JSON.stringify({ name, state: 'UNAVAILABLE' }), ctx.requestId);
    },
    'repository',
  );
}
