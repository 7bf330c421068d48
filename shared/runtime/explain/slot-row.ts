// How a row decides each split, for explanations: the same input slots (flat-layout.ts, "Input
// slots") and the same categorical rule (tree-ir.ts CategoricalRule) as the prediction kernels
// (kernels.ts fillSource / catWalkSource), written as plain functions, so a contribution's hot
// branch is always the branch prediction takes.
import {
  SLOT_NAN_LEFT,
  SLOT_NAN_RIGHT,
  SLOT_NONE,
  SLOT_RAW,
  SLOT_ZERO_LEFT,
  SLOT_ZERO_RIGHT,
  type TreesDescriptorExtra,
  ZERO_THRESHOLD,
} from '../trees/flat-layout.js';
import type { TreeArrays } from '../trees/kernels.js';

/** Expands one dense row (input[off .. off + F)) into the slot row `sl`. */
export function fillSlots(d: TreesDescriptorExtra, input: Float64Array, off: number, sl: Float64Array): void {
  const F = d.numFeatures;
  const f32 = d.inputPrecision === 'f32';
  const groups = d.slotGroups;
  for (let f = 0; f < F; f++) {
    const x = f32 ? Math.fround(input[off + f]!) : input[off + f]!;
    const nan = Number.isNaN(x);
    const zero = nan || (x >= -ZERO_THRESHOLD && x <= ZERO_THRESHOLD);
    for (let g = 0; g < groups.length; g++) {
      let v: number;
      switch (groups[g]) {
        case SLOT_NAN_LEFT:
          v = nan ? Number.NEGATIVE_INFINITY : x;
          break;
        case SLOT_NAN_RIGHT:
          v = nan ? Number.POSITIVE_INFINITY : x;
          break;
        case SLOT_NONE:
          v = nan ? 0 : x;
          break;
        case SLOT_ZERO_LEFT:
          v = zero ? Number.NEGATIVE_INFINITY : x;
          break;
        case SLOT_ZERO_RIGHT:
          v = zero ? Number.POSITIVE_INFINITY : x;
          break;
        case SLOT_RAW:
          v = x;
          break;
        default:
          v = x;
      }
      sl[g * F + f] = v;
    }
  }
}

/** 1 if a categorical flat node `j` sends slot value x right, else 0 (kernels.ts catWalkSource). */
export function categoricalRight(d: TreesDescriptorExtra, a: TreeArrays, j: number, x: number): number {
  const c = d.categorical;
  let rule: 'left' | 'right' | 'default';
  if (Number.isNaN(x)) rule = c.nan;
  else {
    const v = Math.trunc(x);
    if (c.negative === 'value' ? x < 0 : v < 0) rule = c.invalid;
    else if (v >= 32 * a.nodeCatWords[j]!) rule = c.invalid;
    else {
      const inSet = (a.catBits[a.nodeCat[j]! + (v >>> 5)]! >>> (v & 31)) & 1;
      return c.inSetGoesLeft ? inSet ^ 1 : inSet;
    }
  }
  return rule === 'default' ? (a.nodeFlags[j]! & 1) ^ 1 : rule === 'left' ? 0 : 1;
}
