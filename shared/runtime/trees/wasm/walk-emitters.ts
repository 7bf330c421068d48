// Instruction emitters for the tree walks of the WebAssembly kernel (kernel-module.ts): the dual-row
// slot fill, the depth-unrolled heap ladder (K independent chains in lockstep), the shared-root
// batch form, and the generic walk through child addresses. memory-image.ts defines the addresses.

import { type Code, F64, I32, type ValType } from '../../wasm/encoder.js';
import {
  SLOT_NAN_LEFT,
  SLOT_NAN_RIGHT,
  SLOT_NONE,
  SLOT_RAW,
  SLOT_ZERO_LEFT,
  SLOT_ZERO_RIGHT,
  ZERO_THRESHOLD,
} from '../flat-layout.js';
import { emitCatCode } from './categorical-walk.js';
import type { WasmPlan } from './memory-image.js';

export class Locals {
  readonly types: ValType[] = [];
  constructor(private readonly params: number) {}
  add(t: ValType): number {
    this.types.push(t);
    return this.params + this.types.length - 1;
  }
}

/**
 * Fills the slots of rows r .. r+R-1 (r = local `row`, param 0 by default) from INPUT, at SLOTS or,
 * with `sbase` (a local holding an address), at sbase.
 */
export function emitFill(c: Code, p: WasmPlan, R: number, L: Locals, row = 0, sbase?: number): void {
  if (p.F === 0) return;
  const ip = L.add(I32);
  const iend = L.add(I32);
  const sp = L.add(I32);
  const x = L.add(F64);
  const z = L.add(I32);
  const zz = L.add(I32);
  const rowBytes = p.F * 8;
  const f32 = p.E === 4;
  c.get(row).i32(rowBytes).i32Mul().i32(p.INPUT).i32Add().tee(ip).i32(rowBytes).i32Add().set(iend);
  if (sbase === undefined) c.i32(0).set(sp);
  else c.get(sbase).set(sp);
  c.loop();
  const zero = p.slotGroups.includes(SLOT_ZERO_LEFT) || p.slotGroups.includes(SLOT_ZERO_RIGHT);
  for (let k = 0; k < R; k++) {
    c.get(ip).f64Load(k * rowBytes);
    if (f32) c.f32DemoteF64().f64PromoteF32();
    c.tee(x).get(x).f64Ne().set(z);
    if (zero) {
      c.get(x).f64(-ZERO_THRESHOLD).f64Ge().get(x).f64(ZERO_THRESHOLD).f64Le().i32And();
      c.get(z).i32Or().set(zz);
    }
    p.slotGroups.forEach((g, gi) => {
      // Slot layout stride is the plan's R (the one-row function fills row 0 of the same layout).
      const off = (sbase === undefined ? p.SLOTS : 0) + (gi * p.F * p.R + k) * p.E;
      c.get(sp);
      if (g === SLOT_RAW) {
        // Categorical nodes read an i32 category code (categorical-image.ts).
        emitCatCode(c, p, x);
        c.i32Store(off);
        return;
      }
      if (g === SLOT_NAN_LEFT) c.f64(-Infinity).get(x).get(z).select();
      else if (g === SLOT_NAN_RIGHT) c.f64(Infinity).get(x).get(z).select();
      else if (g === SLOT_NONE) c.f64(0).get(x).get(z).select();
      else if (g === SLOT_ZERO_LEFT) c.f64(-Infinity).get(x).get(zz).select();
      else if (g === SLOT_ZERO_RIGHT) c.f64(Infinity).get(x).get(zz).select();
      else c.get(x);
      if (f32) c.f32DemoteF64().f32Store(off);
      else c.f64Store(off);
    });
  }
  c.get(sp)
    .i32(p.R * p.E)
    .i32Add()
    .set(sp);
  c.nextWhileBelow(ip, 8, { local: iend });
  c.end();
}

/** [slotByteOffset] -> slot value of row k (at SLOTS, or at the address in local `sbase`). */
export function loadSlot(c: Code, p: WasmPlan, k: number, sbase?: number): void {
  const at = sbase === undefined ? p.SLOTS : 0;
  if (sbase !== undefined) c.get(sbase).i32Add();
  if (p.E === 4) c.f32Load(at + k * 4);
  else c.f64Load(at + k * 8);
}
export function loadThrAndCompare(c: Code, p: WasmPlan): void {
  if (p.E === 4) c.f32Load(4).f32Ge();
  else c.f64Load(8).f64Ge();
}

/**
 * Heap walks of K independent chains (rows or trees), unrolled by depth: a ladder of blocks entered
 * by br_table on `dep` runs exactly `dep` steps `i = 2i + (slot >= thr)` (i starts at 1).
 * Chain k walks the tree at node base nbs[k] with slot offset slotRow[k].
 */
export function emitHeapLadder(
  c: Code,
  p: WasmPlan,
  maxDepth: number,
  dep: number,
  idx: number[],
  nbs: number[],
  slotRow: number[],
  addr: number,
  sbase?: number,
  startAtRoot = true,
): void {
  const log2NSH = p.NSH === 8 ? 3 : 4;
  if (startAtRoot) for (const i of idx) c.i32(1).set(i);
  for (let b = 0; b <= maxDepth; b++) c.block();
  c.get(dep).brTable(
    Array.from({ length: maxDepth + 1 }, (_, d) => maxDepth - d),
    maxDepth,
  );
  c.end();
  for (let level = maxDepth; level >= 1; level--) {
    idx.forEach((i, k) => {
      c.get(i).i32(log2NSH).i32Shl().get(nbs[k]!).i32Add().tee(addr).i32Load(0);
      loadSlot(c, p, slotRow[k]!, sbase);
      c.get(addr);
      loadThrAndCompare(c, p);
      c.get(i).get(i).i32Add().i32Add().set(i);
    });
    c.end();
  }
}

/**
 * The batch form of the ladder: all R rows are in the same tree, so the root's slot offset and
 * threshold are loaded once (`addr` and `rt` hold them) and each row only loads its slot and
 * compares; the remaining dep - 1 levels run the ladder. Depth-0 trees are their own leaf (i = 1).
 * Tried and dropped: sharing level 2 too (both candidates' slot offsets loaded once, an i32 select
 * per row): CPU ns/row 642 -> 654 (XGBoost 100x4), 2840 -> 3028 (500x8), LightGBM 100x4 even.
 */
export function emitSharedRootLadder(
  c: Code,
  p: WasmPlan,
  maxDepth: number,
  dep: number,
  idx: number[],
  nb: number,
  addr: number,
  rt: number,
  sbase?: number,
): void {
  c.get(dep).if();
  c.get(nb).i32Load(p.NSH).set(addr);
  if (p.E === 4)
    c.get(nb)
      .f32Load(p.NSH + 4)
      .set(rt);
  else
    c.get(nb)
      .f64Load(p.NSH + 8)
      .set(rt);
  idx.forEach((i, k) => {
    c.get(addr);
    loadSlot(c, p, k, sbase);
    c.get(rt);
    if (p.E === 4) c.f32Ge();
    else c.f64Ge();
    c.i32(2).i32Add().set(i);
  });
  c.get(dep).i32(1).i32Sub().set(dep);
  emitHeapLadder(
    c,
    p,
    Math.max(0, maxDepth - 1),
    dep,
    idx,
    idx.map(() => nb),
    idx.map((_, k) => k),
    addr,
    sbase,
    false,
  );
  c.else();
  for (const i of idx) c.i32(1).set(i);
  c.end();
}

/** Heap leaf address: i = la + i * leafStride. */
export function emitHeapLeaf(c: Code, p: WasmPlan, i: number, la: number): void {
  const leafStride = p.W * (p.leafF32 ? 4 : 8);
  if (leafStride === 4 || leafStride === 8)
    c.get(i)
      .i32(leafStride === 4 ? 2 : 3)
      .i32Shl();
  else c.get(i).i32(leafStride).i32Mul();
  c.get(la).i32Add().set(i);
}

/**
 * Generic walks: `dep` steps through child addresses (`dep` is consumed); leaves loop on
 * themselves (thr NaN) and keep their leaf's address in the right-child word, read at the end.
 */
export function emitGenericWalk(
  c: Code,
  p: WasmPlan,
  dep: number,
  idx: number[],
  slotRow: number[],
  sbase?: number,
): void {
  const kidAt = p.E === 4 ? 8 : 16;
  c.block().loop();
  c.get(dep).i32Eqz().brIf(1);
  idx.forEach((i, k) => {
    c.get(i).i32Load(0);
    loadSlot(c, p, slotRow[k]!, sbase);
    c.get(i);
    loadThrAndCompare(c, p);
    c.i32(2).i32Shl().get(i).i32Add().i32Load(kidAt).set(i);
  });
  c.get(dep).i32(1).i32Sub().set(dep).br(0);
  c.end().end();
  for (const i of idx)
    c.get(i)
      .i32Load(kidAt + 4)
      .set(i);
}
