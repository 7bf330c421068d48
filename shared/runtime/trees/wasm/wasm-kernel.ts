// The glue between a TreeModel and its WebAssembly kernel: checks the model is one the kernel
// covers, packs the image (memory-image.ts) into the instance's own memory once, and exposes the
// same MarginKernel signature as the JavaScript kernels (kernels.ts), so tree-model.ts swaps them.
//
// Memory: each thread that builds the Model instantiates the module once per model, with a private,
// fixed-size (never grown) memory holding the packed copy of the nodes and leaves, the slots and
// the input/output staging areas. The model's SharedArrayBuffer stays the single source of truth
// (the image is derived from it at load); a shared WebAssembly.Memory would save that copy
// but would also need per-thread scratch carved out of one shared memory.
import { TREE_GENERIC, TREE_HEAP, TREE_TABLE_STRIDE, type TreesDescriptorExtra } from '../flat-layout.js';
import type { MarginKernel, TreeArrays } from '../kernels.js';
import { kernelModuleBytes } from './kernel-module.js';
import { fillImage, planImage, type WasmPlan } from './memory-image.js';

// lib ES2023 without DOM declares no WebAssembly: the few members used here, typed locally.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * Rows interleaved in the batch kernel. CPU ns/row (process.cpuUsage, 20000 rows, best of 12, one
 * process, loaded 2-core EPYC), R = 1, 2, 4, 8, 16:
 *   XGBoost 100x4: 1191, 989, 790, 643, 838   XGBoost 500x8: 6928, 4996, 3673, 2876, 3882
 *   LightGBM 100x4: 1124, 922, 748, 631, 759  (16 rows spill the locals: V8 runs out of registers)
 */
export const WASM_INTERLEAVE = 8;
/** Trees walked in lockstep by a one-row call. */
export const ONE_ROW_LOCKSTEP = 8;
/** Rows staged per call: the copy in and the call cost are paid once per chunk. */
const CHUNK = 512;
/** Vector leaves wider than this stay on the JavaScript kernel (the adds are unrolled). */
const MAX_LEAF_WIDTH = 32;

/** Why the WebAssembly kernel does not cover this model, or null when it does. */
export function wasmUnsupported(d: TreesDescriptorExtra, a: TreeArrays): string | null {
  if (!wasmApi) return 'WebAssembly is not available';
  // Linear leaves (LightGBM linear_tree) are computed by the JavaScript kernels only (kernels.ts).
  if (d.hasLinear) return 'linear leaves';
  if (d.leafWidth > MAX_LEAF_WIDTH) return `vector leaves wider than ${MAX_LEAF_WIDTH}`;
  // A 32-bit memory holds at most 4 GiB; stay far below it (nodes take 32 bytes at most, a
  // categorical node's record one word more than its bitset).
  const catBytes = (a.catBits.length + a.nodeCat.length) * 4;
  if (a.nodeSlot.length * 32 + catBytes + a.leafValue.length * 8 > 1 << 30) return 'model image above 1 GiB';
  // Category codes and bitset indices are i32 (categorical-image.ts): 32 * words < 2^31.
  for (const w of a.nodeCatWords) if (w >= 1 << 25) return 'categorical bitset wider than 2^30 bits';
  return null;
}

export interface WasmKernels {
  /** margins as the model defines them (averaged forests: mean of the trees + base margin) */
  margins: MarginKernel;
  /** plain tree sums from the base margin (raw output of forests whose raw margins are not averaged) */
  plain: MarginKernel;
  plan: WasmPlan;
}

export interface WasmKernelOptions {
  /** rows interleaved in batches (default WASM_INTERLEAVE) */
  R?: number;
  /** tree-block budget in bytes (memory-image.ts BLOCK_BYTES) */
  blockBytes?: number;
  /** 'auto': tree-blocked batches when the model spans several blocks and the batch is big enough */
  blocked?: 'auto' | 'always' | 'never';
  /** trees walked in lockstep by one-row calls (memory-image.ts GROUPS) */
  Q?: number;
  /**
   * The compiled kernel (a WebAssembly.Module of `wasmKernelBytes(d, a, opts)` with the same
   * options) instead of emitting and compiling one here: what a module exported by `grove export`
   * passes, having compiled its embedded bytes asynchronously.
   */
  module?: object;
}

/** Batches smaller than this skip tree blocking: the per-block overhead would not pay. */
const BLOCKED_MIN_ROWS = 32;
/**
 * Models whose nodes and leaves exceed this (the 512 KiB L2) walk in tree blocks. CPU time per row,
 * 20000 rows (bench-kernels.ts): LightGBM 500x8 (3 MB) 9.4 us unblocked, 7.1 us in 160 KiB blocks;
 * XGBoost 500x8 (~300 KB) 3.2 us unblocked, 3.6 us blocked (the slot base add costs when it fits).
 */
const BLOCKED_MIN_BYTES = 512 * 1024;

/** The plan and the kernel module's inputs for this model, as makeWasmKernels derives them. */
function prepare(d: TreesDescriptorExtra, a: TreeArrays, opts: WasmKernelOptions) {
  const R = opts.R ?? WASM_INTERLEAVE;
  const plan = planImage(d, a, R, CHUNK, opts.Q ?? ONE_ROW_LOCKSTEP, opts.blockBytes);
  let maxHeapDepth = 0;
  let hasGeneric = false;
  for (let t = 0; t < d.numTrees; t++) {
    const q = t * TREE_TABLE_STRIDE;
    if (a.table[q] === TREE_HEAP) maxHeapDepth = Math.max(maxHeapDepth, a.table[q + 1]!);
    else if (a.table[q] === TREE_GENERIC) hasGeneric = true;
  }
  return { plan, maxHeapDepth, hasGeneric };
}

/** The WebAssembly kernel module makeWasmKernels would emit for this model and these options. */
export function wasmKernelBytes(
  d: TreesDescriptorExtra,
  a: TreeArrays,
  opts: WasmKernelOptions = {},
): Uint8Array {
  const { plan, maxHeapDepth, hasGeneric } = prepare(d, a, opts);
  return kernelModuleBytes(plan, maxHeapDepth, hasGeneric);
}

export function makeWasmKernels(
  d: TreesDescriptorExtra,
  a: TreeArrays,
  opts: WasmKernelOptions = {},
): WasmKernels {
  const { plan, maxHeapDepth, hasGeneric } = prepare(d, a, opts);
  if (!wasmApi) throw new Error('WebAssembly is not available');
  const module = opts.module ?? new wasmApi.Module(kernelModuleBytes(plan, maxHeapDepth, hasGeneric));
  const inst = new wasmApi.Instance(module, {});
  const ex = inst.exports as {
    mem: { buffer: ArrayBuffer };
    batch: (n: number, init: number) => void;
    one: (r: number, init: number) => void;
    batchBlocked: (n: number, init: number) => void;
  };
  fillImage(plan, a, ex.mem.buffer);
  const mem = new Float64Array(ex.mem.buffer);
  const batch = ex.batch;
  const one = ex.one;
  const blocked = ex.batchBlocked;
  const mode = opts.blocked ?? 'auto';
  const minBlocked =
    mode === 'always'
      ? 2
      : mode === 'never' || plan.blocks.length < 2 || plan.modelBytes <= BLOCKED_MIN_BYTES
        ? Infinity
        : BLOCKED_MIN_ROWS;
  const F = plan.F;
  const G = plan.G;
  const IN = plan.INPUT >> 3;
  const OUT = plan.OUT >> 3;
  const gc = Float64Array.from(a.groupTreeCount);
  const bm = a.baseMargin;

  const make = (average: boolean): MarginKernel => {
    const init = average ? plan.ZERO : plan.BM;
    return (input, first, rows, out, o0) => {
      for (let done = 0; done < rows; ) {
        const n = Math.min(CHUNK, rows - done);
        const from = (first + done) * F;
        if (n * F <= 256) for (let i = 0; i < n * F; i++) mem[IN + i] = input[from + i]!;
        else mem.set(input.subarray(from, from + n * F), IN);
        if (n === 1) one(0, init);
        else if (n >= minBlocked) blocked(n, init);
        else batch(n, init);
        const o = o0 + done * G;
        if (!average) for (let i = 0; i < n * G; i++) out[o + i] = mem[OUT + i]!;
        else
          for (let k = 0; k < n; k++)
            for (let g = 0; g < G; g++) {
              const c = gc[g]!;
              out[o + k * G + g] = (c > 0 ? mem[OUT + k * G + g]! / c : 0) + bm[g]!;
            }
        done += n;
      }
    };
  };
  return { margins: make(d.average), plain: make(false), plan };
}
