// The runtime inside every module `grove export` writes: esbuild bundles this file (and the parts
// of shared/runtime it imports) into one script at build time (build-runtime-bundle.ts), and the
// exporter (export-module.ts) appends the model's data. `open` rebuilds the model from its
// container bytes with grove's own model classes, so an exported module answers exactly as the
// server and the library do.
//
// Kernels: the module never generates code at run time. The JavaScript kernels arrive compiled (as
// functions in the module, looked up by kernelKey) and answer at once; the WebAssembly kernel
// arrives as bytes and is compiled asynchronously (WebAssembly.compile: Chromium refuses a
// synchronous compile of large modules on a page's main thread), then takes over. Where compiling
// WebAssembly is refused (no WebAssembly, a Content-Security-Policy without 'wasm-unsafe-eval', an
// edge runtime that forbids code generation), the JavaScript kernel stays: same answers, slower.
import { Container } from '../../shared/runtime/container.js';
import type { Model } from '../../shared/runtime/model.js';
import { modelFromContainer } from '../../shared/runtime/registry.js';
import type { KernelCompiler, MarginKernel, TreeArrays } from '../../shared/runtime/trees/kernels.js';
import { BATCH_INTERLEAVE, TREES_KIND, TreeModel } from '../../shared/runtime/trees/tree-model.js';
import '../../shared/runtime/sklearn/linear/linear-model.js';
import '../../shared/runtime/xgboost-linear/gblinear-model.js';
import { GroveModel, type KernelName } from '../grove-model.js';
import { decodeBase64 } from './base64.js';
import { kernelKey } from './kernel-key.js';

/** What the exporter embeds. */
export interface Embedded {
  /** base64 of the model's container (shared/runtime/container.ts): every array of the model */
  model: string;
  /** base64 of the WebAssembly kernel module, or '' (linear models, models it does not cover) */
  wasm: string;
  /** the JavaScript kernels' factories, by kernelKey of their source */
  kernels: Record<string, (a: TreeArrays) => MarginKernel>;
  /** sha256 (hex) of the model file the module was exported from */
  sha256: string;
}

export interface ExportedModel {
  meta: GroveModel['meta'];
  predict: GroveModel['predict'];
  predictRaw: GroveModel['predictRaw'];
  /** Resolves (never rejects) with the kernel in use once the WebAssembly kernel is in, or refused. */
  ready: Promise<KernelName>;
}

interface WasmCompiler {
  compile(bytes: Uint8Array): Promise<object>;
}

export function open(e: Embedded): ExportedModel {
  const bytes = decodeBase64(e.model);
  // Typed arrays over a plain ArrayBuffer read as over shared memory (pages that are not
  // cross-origin isolated have no SharedArrayBuffer at all).
  const container = new Container(bytes.buffer as unknown as SharedArrayBuffer);
  const compileJs: KernelCompiler = (src) => {
    const factory = e.kernels[kernelKey(src)];
    if (!factory) throw new Error('this exported module lacks a kernel its runtime asks for');
    return factory;
  };
  const trees = container.descriptor.kind === TREES_KIND;
  const build = (wasmModule?: object): Model =>
    trees
      ? new TreeModel(container, BATCH_INTERLEAVE, wasmModule ? 'wasm' : 'js', { compileJs, wasmModule })
      : modelFromContainer(container);
  let current = new GroveModel(build(), e.sha256);
  const ready = trees && e.wasm ? upgrade() : Promise.resolve(current.kernel);

  async function upgrade(): Promise<KernelName> {
    const api = (globalThis as { WebAssembly?: WasmCompiler }).WebAssembly;
    if (!api) return current.kernel;
    try {
      const module = await api.compile(decodeBase64(e.wasm));
      current = new GroveModel(build(module), e.sha256);
    } catch {
      // Compiling or instantiating was refused: the JavaScript kernel answers, identically.
    }
    return current.kernel;
  }

  function predict(rows: unknown, rowCount?: unknown) {
    return current.predict(rows as Float64Array, rowCount as number);
  }
  function predictRaw(rows: unknown, rowCount?: unknown) {
    return current.predictRaw(rows as Float64Array, rowCount as number);
  }
  return {
    meta: current.meta,
    predict: predict as GroveModel['predict'],
    predictRaw: predictRaw as GroveModel['predictRaw'],
    ready,
  };
}
