// The Model of a tree ensemble (container kind 'trees'): zero-copy views over the flat layout
// (flat-layout.ts), a generated margin kernel (kernels.ts) and the output transform. Rebuilding
// it from the same SharedArrayBuffer in another thread gives the same code and the same answers.
import { BadInputError, ModelFormatError } from '../../errors/grove-error.js';
import type { Container } from '../container.js';
import { checkPredictArgs, type Model, type ModelMeta } from '../model.js';
import { registerModelKind } from '../registry.js';
import { checkExplainSections } from './explain-checks.js';
import type { TreesDescriptorExtra } from './flat-layout.js';
import { type KernelCompiler, type MarginKernel, makeMarginKernel, type TreeArrays } from './kernels.js';
import { checkTreeSections, checkTreesDescriptor } from './layout-checks.js';
import { NamedRowMapper } from './named-rows.js';
import { applyTransform, outputWidth } from './transforms.js';
import type { TransformName } from './tree-ir.js';
import { makeWasmKernels, wasmUnsupported } from './wasm/wasm-kernel.js';

export const TREES_KIND = 'trees';

/**
 * Rows walked in lockstep by the JavaScript batch kernel (the WebAssembly kernel, wasm/, walks 8:
 * wasm-kernel.ts WASM_INTERLEAVE). Measured with the XGBoost fixtures, batch ns/row on
 * one thread of a shared, loaded 2-core machine (best of 5; timings swing +-50% between runs):
 *   R = 1, 2, 4, 8:  100x4: 3124, 1803, 1404, 1224   500x8: 17106, 9475, 7199, 7613
 * (XGBoost 1.7.4 native in the same minute: 3458 and 19649.) 4 is the best compromise; one-row
 * calls walk four trees in lockstep instead (kernels.ts oneRowSource): ~2.0 us for 100x4 with the
 * output transform, vs 3.3 us walking one tree at a time.
 */
export const BATCH_INTERLEAVE = 4;
export type KernelChoice = 'js' | 'wasm' | 'auto';

/**
 * Which margin kernel a TreeModel uses: env GROVE_KERNEL=js|wasm forces one (tests run both);
 * 'auto' (the default) takes the WebAssembly kernel (wasm/) whenever it covers the model
 * (everything but categorical splits and linear leaves), else the JavaScript kernels. 'wasm' on a
 * model it does not cover falls back to JavaScript too: the answers are identical either way. CPU
 * ns per row on one thread (wasm/bench-kernels.ts, same process, loaded machine), JS vs WASM:
 *   XGBoost 100x4 batch 1526 vs 688, one row 2023 vs ~900; XGBoost 500x8 batch 7841 vs ~2600;
 *   LightGBM 100x4 batch 1482 vs ~630; LightGBM 500x8 batch 18913 vs ~7100 (tree-blocked).
 */
export function kernelChoiceFromEnv(): KernelChoice {
  const v = process.env.GROVE_KERNEL;
  return v === 'js' || v === 'wasm' ? v : 'auto';
}

/**
 * Kernels made ahead of time, for code that may not generate code at run time (a module written by
 * `grove export`): the compiled WebAssembly kernel (wasm/wasm-kernel.ts wasmKernelBytes) and a
 * compiler that returns precompiled JavaScript factories (kernels.ts marginKernelSource).
 */
export interface KernelSupply {
  wasmModule?: object;
  compileJs?: KernelCompiler;
}

/** Rows per chunk when margins go through the output transform (bounded scratch). */
const CHUNK = 256;

export function treeArrays(c: Container, d: TreesDescriptorExtra): TreeArrays {
  const lin = d.hasLinear === true;
  const arrays: TreeArrays = {
    table: c.i32('tree_table'),
    group: c.i32('tree_group'),
    groupTreeCount: c.i32('group_tree_count'),
    nodeSlot: c.i32('node_slot'),
    nodeThr: d.thresholdType === 'f32' ? c.f32('node_thr') : c.f64('node_thr'),
    kids: c.i32('node_kids'),
    nodeCat: c.i32('node_cat'),
    nodeCatWords: c.i32('node_cat_words'),
    nodeFlags: c.u8('node_flags'),
    catBits: c.u32('cat_bits'),
    leafValue: c.f64('leaf_value'),
    baseMargin: c.f64('base_margin'),
    linConst: lin ? c.f64('linear_const') : new Float64Array(0),
    linOffset: lin ? c.i32('linear_offset') : new Int32Array(0),
    linCount: lin ? c.i32('linear_count') : new Int32Array(0),
    linFeature: lin ? c.i32('linear_feature') : new Int32Array(0),
    linCoeff: lin ? c.f64('linear_coeff') : new Float64Array(0),
  };
  if (lin) checkLinearSections(d, arrays);
  return arrays;
}

/**
 * The linear sections index each other and the input row: a container whose linear leaves point
 * outside them (hand-made or damaged past its checksum) is a ModelFormatError at load, never a
 * wrong answer from an out-of-range typed-array read. Linear in the sections' size, once per load.
 */
function checkLinearSections(d: TreesDescriptorExtra, a: TreeArrays): void {
  const slots = a.leafValue.length;
  const terms = a.linFeature.length;
  if (
    d.leafWidth !== 1 ||
    a.linConst.length !== slots ||
    a.linOffset.length !== slots ||
    a.linCount.length !== slots ||
    a.linCoeff.length !== terms
  )
    throw new ModelFormatError('grove container: linear leaf sections do not match the leaves');
  for (let s = 0; s < slots; s++) {
    const off = a.linOffset[s]!;
    const cnt = a.linCount[s]!;
    if (off < 0 || cnt < 0 || off + cnt > terms)
      throw new ModelFormatError(`grove container: linear leaf slot ${s} has terms outside the term arrays`);
  }
  for (let j = 0; j < terms; j++) {
    const f = a.linFeature[j]!;
    if (f < 0 || f >= d.numFeatures)
      throw new ModelFormatError(`grove container: a linear leaf uses feature ${f} of ${d.numFeatures}`);
  }
}

export class TreeModel implements Model {
  readonly meta: ModelMeta;
  readonly buffer: SharedArrayBuffer;
  readonly layout: TreesDescriptorExtra;
  /** The kernel actually in use. */
  readonly kernel: 'js' | 'wasm';
  private readonly batchKernel: MarginKernel;
  private readonly oneKernel: MarginKernel;
  /** Raw margins: the same kernels, except for forests whose raw output is not averaged. */
  private readonly rawBatchKernel: MarginKernel;
  private readonly rawOneKernel: MarginKernel;
  private readonly transform: TransformName;
  private readonly scale: number;
  private readonly G: number;
  private readonly F: number;
  private readonly outW: number;
  private readonly scratch: Float64Array;
  private readonly oneMargins: Float64Array;
  private mapper: NamedRowMapper | null = null;
  private namedScratch: Float64Array | undefined;

  constructor(
    container: Container,
    interleave = BATCH_INTERLEAVE,
    choice: KernelChoice = kernelChoiceFromEnv(),
    supply: KernelSupply = {},
  ) {
    // Checked copies only from here on: the descriptor may come from a file or another process.
    const { extra: desc, meta } = checkTreesDescriptor(container.descriptor);
    this.buffer = container.buffer;
    this.meta = meta;
    this.layout = desc;
    const arrays = treeArrays(container, desc);
    checkTreeSections(desc, arrays);
    checkExplainSections(container, desc, arrays);
    this.kernel = choice !== 'js' && wasmUnsupported(desc, arrays) === null ? 'wasm' : 'js';
    if (this.kernel === 'wasm') {
      // One instance serves every entry point: rows === 1 takes its one-row function.
      const w = makeWasmKernels(desc, arrays, supply.wasmModule ? { module: supply.wasmModule } : {});
      this.batchKernel = w.margins;
      this.oneKernel = w.margins;
      this.rawBatchKernel = desc.average && desc.averageRaw === false ? w.plain : w.margins;
      this.rawOneKernel = this.rawBatchKernel;
    } else {
      const js = supply.compileJs;
      this.batchKernel = makeMarginKernel(desc, arrays, { interleave }, js);
      this.oneKernel = makeMarginKernel(desc, arrays, { interleave: 1, treeLockstep: true }, js);
      if (desc.average && desc.averageRaw === false) {
        const plain = { ...desc, average: false };
        this.rawBatchKernel = makeMarginKernel(plain, arrays, { interleave }, js);
        this.rawOneKernel = makeMarginKernel(plain, arrays, { interleave: 1, treeLockstep: true }, js);
      } else {
        this.rawBatchKernel = this.batchKernel;
        this.rawOneKernel = this.oneKernel;
      }
    }
    this.G = desc.numGroups;
    this.F = desc.numFeatures;
    this.outW = outputWidth(desc.transform, desc.numGroups);
    this.transform = desc.transform;
    this.scale = desc.sigmoidScale;
    this.scratch = new Float64Array(CHUNK * this.G);
    this.oneMargins = new Float64Array(this.G);
  }

  predict(input: Float64Array, rows: number, out: Float64Array, raw = false): void {
    const F = this.F;
    const G = this.G;
    const W = raw ? G : this.outW;
    checkPredictArgs(input, rows, F, out, W);
    if (raw) {
      this.rawBatchKernel(input, 0, rows, out, 0);
      return;
    }
    const m = this.scratch;
    const outW = this.outW;
    const tf = this.transform;
    const scale = this.scale;
    for (let r = 0; r < rows; r += CHUNK) {
      const n = Math.min(CHUNK, rows - r);
      this.batchKernel(input, r, n, m, 0);
      for (let k = 0; k < n; k++) applyTransform(tf, scale, m, k * G, G, out, (r + k) * outW);
    }
  }

  predictOne(row: Float64Array, out: Float64Array, raw = false): void {
    if (row.length < this.F) throw new BadInputError(`expected ${this.F} features, got ${row.length}`);
    if (raw) {
      this.rawOneKernel(row, 0, 1, out, 0);
      return;
    }
    this.oneKernel(row, 0, 1, this.oneMargins, 0);
    applyTransform(this.transform, this.scale, this.oneMargins, 0, this.G, out, 0);
  }

  predictNamed(rows: ReadonlyArray<Readonly<Record<string, unknown>>>, out: Float64Array, raw = false): void {
    this.mapper ??= new NamedRowMapper(this.meta.featureNames);
    const dense = this.mapper.toDense(rows, this.F, this.namedScratch);
    if (dense.length <= 65536) this.namedScratch = dense;
    this.predict(dense, rows.length, out, raw);
  }
}

registerModelKind(
  TREES_KIND,
  (c) => new TreeModel(c),
  (c) => {
    const { extra } = checkTreesDescriptor(c.descriptor);
    const arrays = treeArrays(c, extra);
    checkTreeSections(extra, arrays);
    checkExplainSections(c, extra, arrays);
  },
);
