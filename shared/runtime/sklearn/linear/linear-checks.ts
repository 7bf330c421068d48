// Checks an 'sklearn-linear' container (linear-spec.ts) before a LinearModel reads it: the
// descriptor's fields (types, ranges, what each output rule needs), the meta against them, and
// every section's length; the sparse weight table (feature-table.ts) must have an empty slot (a
// lookup probes until it finds one) and point only inside its name pool and the coefficients.
import { ModelFormatError } from '../../../errors/grove-error.js';
import type { Container } from '../../container.js';
import {
  boolField,
  checkMeta,
  enumField,
  intField,
  isPlainObject,
  type Obj,
  objectField,
  stringField,
} from '../../descriptor-checks.js';
import { LIMITS } from '../../limits.js';
import type { ModelMeta } from '../../model.js';
import { outputWidthOf } from './linear-output.js';
import type { DenseStep, LinearDescriptor, LinearOutput } from './linear-spec.js';

function bad(why: string): never {
  throw new ModelFormatError(`grove container (sklearn-linear): ${why}`);
}

const OUTPUTS: readonly LinearOutput[] = [
  'regression',
  'logistic_ovr',
  'logistic_multinomial',
  'modified_huber',
  'label',
];
const STEP_TYPES = ['impute', 'standard', 'minmax', 'maxabs'] as const;

function step(v: unknown, i: number): DenseStep {
  if (!isPlainObject(v)) bad(`step ${i} is not an object`);
  const type = enumField(v, 'type', STEP_TYPES, undefined, `steps[${i}].type`);
  const hasA = boolField(v, 'hasA', undefined, `steps[${i}].hasA`);
  const hasB = boolField(v, 'hasB', undefined, `steps[${i}].hasB`);
  const needs = {
    impute: [true, false],
    standard: [false, false],
    minmax: [true, true],
    maxabs: [true, false],
  }[type];
  if ((needs[0] && !hasA) || (needs[1] && !hasB)) bad(`step ${i} (${type}) lacks its parameters`);
  const clip = Object.hasOwn(v, 'clip') ? v.clip : null;
  if (clip === null || clip === undefined) return { type, hasA, hasB, clip: null };
  if (
    !Array.isArray(clip) ||
    clip.length !== 2 ||
    !clip.every((x) => typeof x === 'number' && Number.isFinite(x))
  )
    bad(`step ${i} has a bad clip range`);
  return { type, hasA, hasB, clip: [clip[0], clip[1]] };
}

/** The checked descriptor and meta of an 'sklearn-linear' container; checks its sections too. */
export function checkLinearContainer(c: Container): { d: LinearDescriptor; meta: ModelMeta } {
  const raw = objectField(c.descriptor as Obj, 'linear');
  const K = intField(raw, 'K', 1, LIMITS.outputs, 'linear.K');
  const C = intField(raw, 'C', 0, LIMITS.arrayElements, 'linear.C');
  const stepsV = Object.hasOwn(raw, 'steps') ? raw.steps : undefined;
  if (!Array.isArray(stepsV) || stepsV.length > 64) bad('linear.steps is not a list of steps');
  const d: LinearDescriptor = {
    K,
    C,
    F: intField(raw, 'F', 0, LIMITS.features, 'linear.F'),
    f32: boolField(raw, 'f32', undefined, 'linear.f32'),
    steps: stepsV.map(step),
    vectorizer: enumField(
      raw,
      'vectorizer',
      ['none', 'dict', 'hasher'] as const,
      undefined,
      'linear.vectorizer',
    ),
    separator: stringField(raw, 'separator', 'linear.separator'),
    hashFeatures: intField(raw, 'hashFeatures', 0, LIMITS.arrayElements, 'linear.hashFeatures'),
    alternateSign: boolField(raw, 'alternateSign', undefined, 'linear.alternateSign'),
    hashInput: enumField(
      raw,
      'hashInput',
      ['dict', 'pair', 'string'] as const,
      undefined,
      'linear.hashInput',
    ),
    hasColScale: boolField(raw, 'hasColScale', undefined, 'linear.hasColScale'),
    output: enumField(raw, 'output', OUTPUTS, undefined, 'linear.output'),
    nClasses: intField(raw, 'nClasses', 0, LIMITS.outputs, 'linear.nClasses'),
  };
  const dense = d.vectorizer === 'none';
  if (dense ? d.C !== d.F : d.F !== 0 || d.steps.length > 0) bad('linear.F, C and the steps do not agree');
  if (d.vectorizer === 'hasher' && (d.hashFeatures !== d.C || d.C < 1)) bad('linear.hashFeatures must be C');
  if (d.output !== 'regression' && d.nClasses < 2) bad('a classifier needs two classes or more');
  if (
    (d.output === 'logistic_ovr' || d.output === 'logistic_multinomial' || d.output === 'modified_huber') &&
    d.nClasses !== (K === 1 ? 2 : K)
  )
    bad('the classes do not match the decision columns');
  if (d.output === 'label' && K > 1 && d.nClasses < K) bad('the classes do not match the decision columns');
  const W = outputWidthOf(d.output, K, d.nClasses);
  const meta = checkMeta(c.descriptor.meta, d.F, W, K);
  if (meta.sparse === dense) bad('meta.sparse does not match the vectorizer');
  const len = (name: string, n: number, type: 'f64' | 'i32' | 'u8') => {
    const got = type === 'f64' ? c.f64(name).length : type === 'i32' ? c.i32(name).length : c.u8(name).length;
    if (got !== n) bad(`section ${name} holds ${got} values, not ${n}`);
  };
  len('coef', K * C, 'f64');
  len('intercept', K, 'f64');
  len('labels', Math.max(1, d.nClasses), 'f64');
  d.steps.forEach((s, i) => {
    if (s.hasA) len(`step${i}_a`, d.F, 'f64');
    if (s.hasB) len(`step${i}_b`, d.F, 'f64');
  });
  if (d.hasColScale) len('col_scale', C, 'f64');
  if (d.vectorizer === 'dict') checkFeatureTable(c.i32('vocab_slots'), c.u8('vocab_pool').length, C);
  return { d, meta };
}

/** feature-table.ts records: [hash, column, name offset, name length], a power of two of them. */
function checkFeatureTable(slots: Int32Array, pool: number, C: number): void {
  const n = slots.length / 4;
  if (!Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0) bad('vocab_slots is not a power-of-two table');
  let empty = 0;
  for (let r = 0; r < slots.length; r += 4) {
    const col = slots[r + 1]!;
    if (col < 0) {
      empty++;
      continue;
    }
    const off = slots[r + 2]!;
    const len = slots[r + 3]!;
    if (col >= C || off < 0 || len < 0 || off + len > pool)
      bad('vocab_slots points outside its names or columns');
  }
  if (empty === 0) bad('vocab_slots has no empty slot');
}
