// What a generated tree kernel's source may depend on (kernels.ts): a KernelShape read from the
// layout descriptor, whose numbers pass `lit` (safe non-negative integers, written as decimal
// digits) and whose other fields are booleans and names from fixed sets that only choose between
// constant snippets. Nothing from a model file reaches the source any other way.
import { ModelFormatError } from '../../errors/grove-error.js';
import type { TreesDescriptorExtra } from './flat-layout.js';

/** A number for generated source: a safe non-negative integer, as decimal digits, or a refusal. */
export function lit(n: unknown): string {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > 0x7fffffff)
    throw new ModelFormatError('tree kernel: a layout number is not a valid integer');
  return String(n);
}

export type Side = 'left' | 'right' | 'default';

/** What shapes a kernel's source: integers (via lit), booleans, and names from fixed sets. */
export interface KernelShape {
  F: string;
  G: string;
  W: string;
  T: string;
  /** slot count: slot groups x features */
  S: number;
  scalar: boolean;
  vectorLeaves: boolean;
  f32Input: boolean;
  f32Sum: boolean;
  average: boolean;
  hasCat: boolean;
  hasLinear: boolean;
  /** slot group of each group position (SLOT_* ids) */
  groups: number[];
  catNegativeValue: boolean;
  catInSetLeft: boolean;
  catNan: Side;
  catInvalid: Side;
}

function side(v: unknown): Side {
  return v === 'left' ? 'left' : v === 'right' ? 'right' : 'default';
}

export function kernelShape(d: TreesDescriptorExtra): KernelShape {
  const F = Number(lit(d.numFeatures));
  const G = Number(lit(d.numGroups));
  const W = Number(lit(d.leafWidth));
  if (!Array.isArray(d.slotGroups)) throw new ModelFormatError('tree kernel: slotGroups is not a list');
  const groups = d.slotGroups.map((g) => Number(lit(g)));
  const c = d.categorical;
  return {
    F: lit(F),
    G: lit(G),
    W: lit(W),
    T: lit(d.numTrees),
    S: Number(lit(groups.length * F)),
    scalar: G === 1 && W === 1,
    vectorLeaves: W !== 1,
    f32Input: d.inputPrecision === 'f32',
    f32Sum: d.sumPrecision === 'f32',
    average: d.average === true,
    hasCat: d.hasCat === true,
    hasLinear: d.hasLinear === true,
    groups,
    catNegativeValue: c?.negative === 'value',
    catInSetLeft: c?.inSetGoesLeft === true,
    catNan: side(c?.nan),
    catInvalid: side(c?.invalid),
  };
}
