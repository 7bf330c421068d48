// Loads any model file grove serves into a Model: detects the format from the bytes (not only the
// name), parses it, compiles trees to the flat layout; and rebuilds Models from a SharedArrayBuffer
// in any thread (every model kind registers itself when its module is imported below).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ModelFormatError } from '../errors/grove-error.js';
import { Container } from './container.js';
import { detectFormat } from './formats/detect.js';
import { decodeGroveFile, isGroveFile, readGroveFile } from './formats/grove-binary.js';
import { parseLightgbmText } from './formats/lightgbm-text.js';
import { decodeUbjson } from './formats/ubjson.js';
import { isGblinearDocument, parseXgboostLinear } from './formats/xgboost-gblinear.js';
import { decodeXgboostJson, parseXgboost } from './formats/xgboost-json.js';
import type { Model, Platform } from './model.js';
import { checkContainer, modelFromContainer } from './registry.js';
import { treeEnsembleBuffer } from './trees/compile.js';
import './trees/tree-model.js';
import { loadSklearnBuffer } from './sklearn/index.js';
import { buildGblinearModel } from './xgboost-linear/gblinear-builder.js';

export interface LoadOptions {
  /** Helps detection when the content is ambiguous; never overrides clear content. */
  fileName?: string;
}

/** Rebuilds a Model over `sab` without copying (any thread; the kind must be registered). */
export function modelFromBuffer(sab: SharedArrayBuffer): Model {
  return modelFromContainer(new Container(sab));
}

/** A model decoded from grove's own file keeps its source platform and reports 'grove'. */
function asGrove(model: Model): Model {
  (model.meta as { platform: Platform }).platform = 'grove';
  return model;
}

function utf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/** XGBoost documents: tree boosters compile to the flat tree layout, gblinear to its own kind. */
function xgboostBuffer(doc: unknown, platform: Platform): SharedArrayBuffer {
  if (isGblinearDocument(doc)) return buildGblinearModel(parseXgboostLinear(doc), platform).buffer;
  return treeEnsembleBuffer(parseXgboost(doc), platform);
}

export function loadModel(bytes: Uint8Array, opts: LoadOptions = {}): Model {
  const { buffer, platform } = decode(bytes, opts);
  const model = modelFromBuffer(buffer);
  return platform === 'grove' ? asGrove(model) : model;
}

/**
 * A model file decoded into its container and checked exactly as loadModel would check it, but
 * without compiling kernels over it: what a load host hands back (isolation/load-thread.ts), to be
 * checked again and compiled where it will serve.
 */
export function loadModelBuffer(bytes: Uint8Array, opts: LoadOptions = {}): SharedArrayBuffer {
  const { buffer } = decode(bytes, opts);
  checkContainer(new Container(buffer));
  return buffer;
}

function decode(bytes: Uint8Array, opts: LoadOptions): { buffer: SharedArrayBuffer; platform: Platform } {
  const platform = detectFormat(bytes, opts.fileName);
  switch (platform) {
    case 'grove':
      return { buffer: decodeGroveFile(bytes), platform };
    case 'xgboost_json':
      return { buffer: xgboostBuffer(decodeXgboostJson(utf8(bytes)), platform), platform };
    case 'xgboost_ubj':
      return { buffer: xgboostBuffer(decodeUbjson(bytes), platform), platform };
    case 'lightgbm_text':
      return { buffer: treeEnsembleBuffer(parseLightgbmText(utf8(bytes)), platform), platform };
    case 'sklearn_pickle':
    case 'sklearn_joblib':
      return { buffer: loadSklearnBuffer(bytes, platform), platform };
    default:
      throw new ModelFormatError(
        `${platform} models are not supported by this build`,
        'GROVE_ERR_UNSUPPORTED_MODEL',
      );
  }
}

export async function loadModelFile(path: string): Promise<Model> {
  const head = new Uint8Array(8);
  const fh = await import('node:fs/promises').then((fs) => fs.open(path, 'r'));
  try {
    await fh.read(head, 0, 8, 0);
  } finally {
    await fh.close();
  }
  // grove files go straight into shared memory with one read of the payload.
  if (isGroveFile(head)) return asGrove(modelFromBuffer(await readGroveFile(path)));
  const bytes = await readFile(path);
  return loadModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), {
    fileName: basename(path),
  });
}
