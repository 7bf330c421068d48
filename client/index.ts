// grove as a library (`import { loadModel } from 'grove'`): load any model file grove serves and
// predict in-process, with the server's runtime (shared/runtime), so the answers and the errors
// (GroveError with a code) are the server's. This entry imports the runtime and the error
// catalogue only: nothing of the server (no logger, metrics, HTTP client or thread pool) loads with
// it (client/library-entry.test.ts checks). docs/client.md is the guide.
import { GroveModel } from './grove-model.js';
import { modelFromBytes } from './model-bytes.js';
import { type ModelSource, readSource } from './read-source.js';

export interface LoadModelOptions {
  /** Refuse sources larger than this many bytes before allocating for them (default 1 GiB). */
  maxBytes?: number;
  /** The file's name, when the source has none (bytes, a stream): helps format detection. */
  fileName?: string;
}

/**
 * Loads a model: a file path or file: URL, its bytes, or a fetch Response / Blob / ReadableStream
 * (`loadModel(await fetch(url))`). XGBoost JSON/UBJSON, LightGBM text, scikit-learn joblib/pickle
 * (read safely: nothing in the file runs) and grove's own .grove files.
 */
export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<GroveModel> {
  const { bytes, fileName } = await readSource(source, options.maxBytes);
  const { model, sha256 } = modelFromBytes(bytes, options.fileName ?? fileName);
  return new GroveModel(model, sha256);
}

export type { ErrorSpec } from '../shared/errors/catalogue.js';
export { ERROR_CATALOGUE } from '../shared/errors/catalogue.js';
export {
  BadInputError,
  GroveError,
  type GroveErrorCode,
  ModelFormatError,
  ModelSourceError,
  UnknownFeatureError,
  UnsafePickleError,
  UnsupportedModelError,
} from '../shared/errors/grove-error.js';
export type { Platform, Task } from '../shared/runtime/model.js';
export { type ClientMeta, GroveModel, type KernelName } from './grove-model.js';
export type { BlobLike, ModelSource, ReadableStreamLike, ResponseLike } from './read-source.js';
export type { Prediction, Row } from './rows.js';
