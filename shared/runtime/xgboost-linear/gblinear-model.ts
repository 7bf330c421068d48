// The Model of an XGBoost gblinear booster (container kind 'xgboost-linear'), computed as XGBoost
// 1.7-3.x does it (src/gbm/gblinear.cc GBLinear::Pred), in float32 (bst_float) throughout:
//   psum = bias[g] + base_margin[g]; for each feature i in index order with a value (NaN = missing,
//   skipped): psum += float(x_i) * w[i][g]
// Math.fround after every operation gives float32 arithmetic exactly (a product or sum of two
// float32 values rounded once from double is the float32 result). Then the objective's transform,
// shared with the tree models. Views over the one SharedArrayBuffer; nothing allocated per row.
import { BadInputError, ModelFormatError } from '../../errors/grove-error.js';
import type { Container } from '../container.js';
import { checkMeta, enumField, intField, type Obj, objectField } from '../descriptor-checks.js';
import { LIMITS } from '../limits.js';
import { checkPredictArgs, type Model, type ModelMeta } from '../model.js';
import { registerModelKind } from '../registry.js';
import { TRANSFORMS } from '../trees/layout-checks.js';
import { NamedRowMapper } from '../trees/named-rows.js';
import { applyTransform, outputWidth } from '../trees/transforms.js';
import type { TransformName } from '../trees/tree-ir.js';
import { XGB_LINEAR_KIND } from './gblinear-spec.js';

export class GblinearModel implements Model {
  readonly meta: ModelMeta;
  readonly buffer: SharedArrayBuffer;
  private readonly F: number;
  private readonly G: number;
  private readonly weights: Float32Array;
  /** float32(bias[g] + base_margin[g]): where every row's sum starts. */
  private readonly start: Float64Array;
  private readonly transform: TransformName;
  private readonly outW: number;
  /** One row's margins before the transform. */
  private readonly margins: Float64Array;
  private mapper: NamedRowMapper | null = null;
  private namedScratch: Float64Array | undefined;

  constructor(c: Container) {
    // Checked copies only: the descriptor may come from a file or another process.
    const d = objectField(c.descriptor as Obj, 'gblinear');
    const transform = enumField(d, 'transform', TRANSFORMS, undefined, 'gblinear.transform');
    this.buffer = c.buffer;
    this.F = intField(d, 'numFeatures', 0, LIMITS.features, 'gblinear.numFeatures');
    this.G = intField(d, 'numGroups', 1, LIMITS.outputs, 'gblinear.numGroups');
    this.meta = checkMeta(c.descriptor.meta, this.F, outputWidth(transform, this.G), this.G);
    this.weights = c.f32('weights');
    const base = c.f32('base_margin');
    if (this.weights.length !== (this.F + 1) * this.G || base.length !== this.G) {
      throw new ModelFormatError('xgboost-linear container: weights or base margin do not fit its shape');
    }
    this.start = new Float64Array(this.G);
    const biasAt = this.F * this.G;
    for (let g = 0; g < this.G; g++) this.start[g] = Math.fround(this.weights[biasAt + g]! + base[g]!);
    this.transform = transform;
    this.outW = outputWidth(transform, this.G);
    this.margins = new Float64Array(this.G);
  }

  predict(input: Float64Array, rows: number, out: Float64Array, raw = false): void {
    const F = this.F;
    const G = this.G;
    const W = raw ? G : this.outW;
    checkPredictArgs(input, rows, F, out, W);
    if (raw) {
      for (let r = 0; r < rows; r++) this.marginRow(input, r * F, out, r * G);
      return;
    }
    const m = this.margins;
    const tf = this.transform;
    for (let r = 0; r < rows; r++) {
      this.marginRow(input, r * F, m, 0);
      applyTransform(tf, 1, m, 0, G, out, r * W);
    }
  }

  predictOne(row: Float64Array, out: Float64Array, raw = false): void {
    if (row.length < this.F) throw new BadInputError(`expected ${this.F} features, got ${row.length}`);
    if (raw) {
      this.marginRow(row, 0, out, 0);
      return;
    }
    this.marginRow(row, 0, this.margins, 0);
    applyTransform(this.transform, 1, this.margins, 0, this.G, out, 0);
  }

  predictNamed(rows: ReadonlyArray<Readonly<Record<string, unknown>>>, out: Float64Array, raw = false): void {
    this.mapper ??= new NamedRowMapper(this.meta.featureNames);
    const dense = this.mapper.toDense(rows, this.F, this.namedScratch);
    if (dense.length <= 65536) this.namedScratch = dense;
    this.predict(dense, rows.length, out, raw);
  }

  /** Margins of the row at input[at..at+F) into out[o..o+G), summed in float32 in feature order. */
  private marginRow(input: Float64Array, at: number, out: Float64Array, o: number): void {
    const F = this.F;
    const G = this.G;
    const w = this.weights;
    if (G === 1) {
      let s = this.start[0]!;
      for (let i = 0; i < F; i++) {
        const x = input[at + i]!;
        if (Number.isNaN(x)) continue;
        s = Math.fround(s + Math.fround(Math.fround(x) * w[i]!));
      }
      out[o] = s;
      return;
    }
    for (let g = 0; g < G; g++) out[o + g] = this.start[g]!;
    for (let i = 0; i < F; i++) {
      const x = input[at + i]!;
      if (Number.isNaN(x)) continue;
      const xf = Math.fround(x);
      const row = i * G;
      for (let g = 0; g < G; g++) out[o + g] = Math.fround(out[o + g]! + Math.fround(xf * w[row + g]!));
    }
  }
}

registerModelKind(XGB_LINEAR_KIND, (c) => new GblinearModel(c));
