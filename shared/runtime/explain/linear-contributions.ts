// Contributions of linear models.
// - XGBoost gblinear, as its own predict(pred_contribs=True) computes them (src/gbm/gblinear.cc
//   GBLinear::PredictContribution): feature i of group g gets float(x_i) * w[i][g] in float32 (a
//   missing value gets 0), the bias is bias[g] + base_margin[g]; they sum to the margin.
// - scikit-learn linear models and pipelines ending in one: the exact SHAP values of a linear model
//   with independent features, coef_kj * (x'_j - mean_j), where x' is the row after the pipeline's
//   steps and mean the training mean of x' (kept in the container as `background_mean` when the
//   pipeline makes it known: shared/runtime/sklearn/linear/background-mean.ts); the bias is
//   intercept_k + sum_j coef_kj * mean_j, so each column sums to decision_function. Without a known
//   mean the explainer refuses (GROVE_ERR_EXPLAIN_NO_BACKGROUND) rather than guess one.
import { ExplainUnavailableError } from '../../errors/grove-error.js';
import type { Container, Descriptor } from '../container.js';
import type { LinearModel } from '../sklearn/linear/linear-model.js';
import type { LinearDescriptor } from '../sklearn/linear/linear-spec.js';
import type { GblinearDescriptor } from '../xgboost-linear/gblinear-spec.js';
import type { Explainer } from './explainer.js';
import { refusalOf } from './refusals.js';

function checkArgs(input: Float64Array, rows: number, F: number, out: Float64Array, width: number): void {
  if (input.length < rows * F || out.length < rows * width)
    throw new RangeError(`contributions: ${rows} rows need ${rows * F} inputs and ${rows * width} outputs`);
}

export class GblinearExplainer implements Explainer {
  readonly numFeatures: number;
  readonly numGroups: number;
  readonly width: number;
  readonly costPerRow: number;
  private readonly weights: Float32Array;
  private readonly bias: Float64Array;

  constructor(c: Container) {
    const d = (c.descriptor as Descriptor & { gblinear: GblinearDescriptor }).gblinear;
    this.numFeatures = d.numFeatures;
    this.numGroups = d.numGroups;
    this.width = d.numGroups * (d.numFeatures + 1);
    this.costPerRow = this.width;
    this.weights = c.f32('weights');
    const base = c.f32('base_margin');
    if (this.weights.length !== (d.numFeatures + 1) * d.numGroups || base.length !== d.numGroups)
      throw new ExplainUnavailableError('xgboost-linear container: weights do not fit its shape');
    this.bias = new Float64Array(d.numGroups);
    for (let g = 0; g < d.numGroups; g++)
      this.bias[g] = Math.fround(this.weights[d.numFeatures * d.numGroups + g]! + base[g]!);
  }

  contributions(input: Float64Array, rows: number, out: Float64Array): void {
    const F = this.numFeatures;
    const G = this.numGroups;
    checkArgs(input, rows, F, out, this.width);
    const w = this.weights;
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < G; g++) {
        const o = r * this.width + g * (F + 1);
        for (let i = 0; i < F; i++) {
          const x = input[r * F + i]!;
          out[o + i] = Number.isNaN(x) ? 0 : Math.fround(Math.fround(x) * w[i * G + g]!);
        }
        out[o + F] = this.bias[g]!;
      }
    }
  }
}

export class SklearnLinearExplainer implements Explainer {
  readonly numFeatures: number;
  readonly numGroups: number;
  readonly width: number;
  readonly costPerRow: number;
  private readonly coef: Float64Array;
  private readonly mean: Float64Array;
  private readonly bias: Float64Array;
  private readonly x: Float64Array;

  constructor(
    c: Container,
    private readonly model: LinearModel,
  ) {
    const d = (c.descriptor as Descriptor & { linear: LinearDescriptor }).linear;
    const refusal = refusalOf(c, model.meta);
    if (refusal) throw refusal;
    const F = d.F;
    const K = d.K;
    this.numFeatures = F;
    this.numGroups = K;
    this.width = K * (F + 1);
    this.costPerRow = this.width;
    this.coef = c.f64('coef');
    this.mean = c.f64('background_mean');
    const intercept = c.f64('intercept');
    if (this.mean.length !== F || this.coef.length !== K * F || intercept.length !== K)
      throw new ExplainUnavailableError('sklearn-linear container: coefficients do not fit its shape');
    this.bias = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let b = intercept[k]!;
      for (let j = 0; j < F; j++) b += this.coef[k * F + j]! * this.mean[j]!;
      this.bias[k] = b;
    }
    this.x = new Float64Array(F);
  }

  contributions(input: Float64Array, rows: number, out: Float64Array): void {
    const F = this.numFeatures;
    const K = this.numGroups;
    checkArgs(input, rows, F, out, this.width);
    const x = this.x;
    for (let r = 0; r < rows; r++) {
      this.model.transformRow(input, r * F, x);
      for (let k = 0; k < K; k++) {
        const o = r * this.width + k * (F + 1);
        for (let j = 0; j < F; j++) out[o + j] = this.coef[k * F + j]! * (x[j]! - this.mean[j]!);
        out[o + F] = this.bias[k]!;
      }
    }
  }
}
