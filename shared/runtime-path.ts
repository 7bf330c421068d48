// Resolves a compiled module for code that must load JavaScript at run time (worker_threads,
// piscina, child processes). Under vitest the calling module is TypeScript source; the thread or
// process still needs the built file in dist/, so `<root>/x/y.ts` maps to `<root>/dist/x/y.js`.

import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const inDist = here.split(/[\\/]/).includes('dist');
/** Project root (the folder holding package.json). */
export const projectRoot = inDist ? resolve(here, '..', '..') : resolve(here, '..');

/** Absolute path of the built JavaScript for `rel` (e.g. 'worker/pool/predict-task.js'). */
export function builtFile(rel: string): string {
  return join(projectRoot, 'dist', rel.replace(/\.ts$/, '.js'));
}

/** The built counterpart of a module URL (import.meta.url) plus a sibling name. */
export function builtSibling(metaUrl: string, sibling: string): string {
  const file = fileURLToPath(metaUrl);
  const rel = relative(inDist ? join(projectRoot, 'dist') : projectRoot, dirname(file));
  return builtFile(join(rel, sibling));
}
