// Where the build puts the runtime bundled into exported modules (build-runtime-bundle.ts), and
// reading it back for the exporter.
import { readFileSync } from 'node:fs';
import { GroveError } from '../../shared/errors/grove-error.js';
import { builtFile } from '../../shared/runtime-path.js';

export function runtimeBundlePath(): string {
  return builtFile('client/export/module-runtime.bundle.js');
}

let cached: string | null = null;

/** The bundled runtime's text (an IIFE assigning `var __grove`). */
export function readRuntimeBundle(): string {
  if (cached !== null) return cached;
  try {
    cached = readFileSync(runtimeBundlePath(), 'utf8').trim();
  } catch (err) {
    throw new GroveError(
      `the export runtime ${runtimeBundlePath()} is missing: run npm run build`,
      'GROVE_ERR_EXPORT_RUNTIME',
      { cause: err },
    );
  }
  return cached;
}
