// Instruction emitters for categorical trees in the WebAssembly kernel (kernel-module.ts): the
// category code a SLOT_RAW slot holds, and the branch-free walk through a categorical tree's nodes.
// categorical-image.ts defines the codes, the node fields and the bitset records.

import { type Code, I32 } from '../../wasm/encoder.js';
import { CODE_INVALID, CODE_NAN, catFields } from './categorical-image.js';
import type { WasmPlan } from './memory-image.js';
import { emitGenericWalk, type Locals } from './walk-emitters.js';

/**
 * [] -> i32 category code of the f64 in local `x` (already rounded to float32 when the model's
 * inputs are): NaN, invalid or trunc(x) (categorical-image.ts).
 */
export function emitCatCode(c: Code, p: WasmPlan, x: number): void {
  c.get(x).i32TruncSatF64S();
  c.i32(CODE_NAN).i32(CODE_INVALID).get(x).get(x).f64Ne().select();
  // Valid: not negative by the rule's test, and below 2^31 (NaN fails both comparisons).
  c.get(x);
  if (p.cat?.negative === 'value') c.f64(0).f64Ge();
  else c.f64(-1).f64Gt();
  c.get(x)
    .f64(2 ** 31)
    .f64Lt()
    .i32And();
  c.select();
}

export interface CatScratch {
  sa: number;
  code: number;
  hi: number;
  ix: number;
}

export function catScratch(L: Locals): CatScratch {
  return { sa: L.add(I32), code: L.add(I32), hi: L.add(I32), ix: L.add(I32) };
}

/**
 * Categorical tree walks: `dep` steps (consumed) of K chains through child addresses, each step
 * right = (slot >= thr) | bitset bit (categorical-image.ts); leaves loop on themselves and keep
 * their leaf's address in the right-child word, read at the end. Chain k reads row slotRow[k]'s
 * slots (at SLOTS, or at the address in local `sbase`).
 */
export function emitCatWalk(
  c: Code,
  p: WasmPlan,
  dep: number,
  idx: number[],
  slotRow: number[],
  s: CatScratch,
  sbase?: number,
): void {
  const { kid, rec, hi } = catFields(p.E);
  const base = sbase === undefined ? p.SLOTS : 0;
  c.block().loop();
  c.get(dep).i32Eqz().brIf(1);
  idx.forEach((i, k) => {
    const at = base + slotRow[k]! * p.E;
    // Numeric half: slot >= thr.
    c.get(i).i32Load(0);
    if (sbase !== undefined) c.get(sbase).i32Add();
    c.tee(s.sa);
    if (p.E === 4) c.f32Load(at).get(i).f32Load(4).f32Ge();
    else c.f64Load(at).get(i).f64Load(8).f64Ge();
    // Bitset half: idx = code <u hi ? code : hi + (code >>> 31); bit idx of the record.
    c.get(s.sa).i32Load(at).set(s.code);
    c.get(i).i32Load(hi).set(s.hi);
    c.get(s.code);
    c.get(s.hi).get(s.code).i32(31).i32ShrU().i32Add();
    c.get(s.code).get(s.hi).i32LtU();
    c.select().tee(s.ix);
    c.i32(5).i32ShrU().i32(2).i32Shl().get(i).i32Load(rec).i32Add().i32Load(0);
    c.get(s.ix).i32ShrU().i32(1).i32And();
    c.i32Or();
    c.i32(2).i32Shl().get(i).i32Add().i32Load(kid).set(i);
  });
  c.get(dep).i32(1).i32Sub().set(dep).br(0);
  c.end().end();
  for (const i of idx)
    c.get(i)
      .i32Load(kid + 4)
      .set(i);
}

/**
 * Generic (kind 1) and categorical (kind 2) walks, switched on local `kind` when the model has
 * both; chains start at their root addresses in `idx`.
 */
export function emitNonHeapWalk(
  c: Code,
  p: WasmPlan,
  hasGeneric: boolean,
  kind: number,
  dep: number,
  idx: number[],
  slotRow: number[],
  cat: CatScratch | undefined,
  sbase?: number,
): void {
  if (!cat) {
    emitGenericWalk(c, p, dep, idx, slotRow, sbase);
    return;
  }
  if (!hasGeneric) {
    emitCatWalk(c, p, dep, idx, slotRow, cat, sbase);
    return;
  }
  c.get(kind).i32(1).i32And().if();
  emitGenericWalk(c, p, dep, idx, slotRow, sbase);
  c.else();
  emitCatWalk(c, p, dep, idx, slotRow, cat, sbase);
  c.end();
}
