// Writes a model as ONE self-contained JavaScript module with no imports (docs/client.md): grove's
// runtime bundled at build time (module-runtime.ts, runtime-bundle.ts), then the model as data:
//   - the model's container (shared/runtime/container.ts: every array and the descriptor) as base64;
//   - its WebAssembly kernel (shared/runtime/trees/wasm/) as base64, where that kernel covers it;
//   - its JavaScript kernels (shared/runtime/trees/kernels.ts) as functions, for runtimes that may
//     not compile WebAssembly. Their source is structure only (counts and the slot layout); every
//     threshold and leaf stays in the container's arrays.
// Nothing read from the model file is written as code: the only strings from it travel inside the
// base64 container, and the only other text is base64, hex and grove's own kernel sources.
import { Container, withoutSections } from '../../shared/runtime/container.js';
import type { Model } from '../../shared/runtime/model.js';
import type { TreesDescriptorExtra } from '../../shared/runtime/trees/flat-layout.js';
import type { MarginKernel } from '../../shared/runtime/trees/kernels.js';
import {
  BATCH_INTERLEAVE,
  TREES_KIND,
  TreeModel,
  treeArrays,
} from '../../shared/runtime/trees/tree-model.js';
import { wasmKernelBytes, wasmUnsupported } from '../../shared/runtime/trees/wasm/wasm-kernel.js';
import { kernelKey } from './kernel-key.js';
import { readRuntimeBundle } from './runtime-bundle.js';

export type ExportTarget = 'esm' | 'cjs';

export interface ExportedModule {
  /** The module's text. */
  text: string;
  /** Bytes of the model's container and of its WebAssembly kernel (0 when it has none). */
  modelBytes: number;
  wasmBytes: number;
  /** How many JavaScript kernels it carries. */
  jsKernels: number;
}

const noKernel: MarginKernel = () => {};

/** The JavaScript kernel sources a TreeModel over this container compiles, by kernelKey. */
function jsKernelSources(container: Container): Map<string, string> {
  const sources = new Map<string, string>();
  // Build the model once with a compiler that records what it is asked for: exactly the variants
  // the runtime in the module will ask for, with no second list of them to keep in step.
  new TreeModel(container, BATCH_INTERLEAVE, 'js', {
    compileJs: (src) => {
      sources.set(kernelKey(src), src);
      return () => noKernel;
    },
  });
  return sources;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function exportModule(model: Model, sha256: string, target: ExportTarget = 'esm'): ExportedModule {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('sha256 must be 64 lowercase hex digits');
  // The module predicts and never explains: TreeSHAP's sections (covers, gains) stay behind.
  const container = new Container(
    withoutSections(new Container(model.buffer), (n) => n.startsWith('explain_'), ['explain']),
  );
  const containerBytes = new Uint8Array(container.buffer);
  let wasm: Uint8Array = new Uint8Array(0);
  let kernels = new Map<string, string>();
  if (container.descriptor.kind === TREES_KIND) {
    const d = container.descriptor as unknown as TreesDescriptorExtra;
    const arrays = treeArrays(container, d);
    if (wasmUnsupported(d, arrays) === null) wasm = wasmKernelBytes(d, arrays);
    kernels = jsKernelSources(container);
  }
  const kernelLines = [...kernels].map(([key, src]) => `  ${key}: function (A) {${src}\n  },`);
  const open = [
    'const __model = __grove.open({',
    `  model: "${base64(containerBytes)}",`,
    `  wasm: "${base64(wasm)}",`,
    `  sha256: "${sha256}",`,
    `  kernels: {\n${kernelLines.join('\n')}\n  },`,
    '});',
  ].join('\n');
  const head = [
    '// A grove model as one self-contained module, written by `grove export`; predict(rows),',
    '// predictRaw(rows), meta and ready as grove docs/client.md describes. Do not edit: re-export.',
    `// Model file sha256 ${sha256}.`,
  ];
  const exportsText =
    target === 'esm'
      ? [
          'export const meta = __model.meta;',
          'export const ready = __model.ready;',
          'export const predict = __model.predict;',
          'export const predictRaw = __model.predictRaw;',
          'export default __model;',
        ]
      : ['module.exports = __model;'];
  const text = [
    ...(target === 'cjs' ? ['"use strict";'] : []),
    ...head,
    readRuntimeBundle(),
    open,
    ...exportsText,
    '',
  ].join('\n');
  return { text, modelBytes: containerBytes.length, wasmBytes: wasm.length, jsKernels: kernels.size };
}
