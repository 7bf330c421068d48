// A model from its file's bytes, with the file's sha256 (hex) as the server reports it
// (x-grove-model-sha256): what the library's loadModel and `grove export` both start from.
import { createHash } from 'node:crypto';
import { loadModel } from '../shared/runtime/load.js';
import type { Model } from '../shared/runtime/model.js';

export function modelFromBytes(bytes: Uint8Array, fileName?: string): { model: Model; sha256: string } {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { model: loadModel(bytes, fileName ? { fileName } : {}), sha256 };
}
