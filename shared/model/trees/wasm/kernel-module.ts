// Emits the WebAssembly tree kernel of one model (memory-image.ts says where everything lives):
//   batch(n, init)  margins of INPUT rows [0, n) into OUT: blocks of R rows, then single rows
//   one(r, init)    margins of INPUT row r (a one-row predict is: copy the row in, one call, read OUT);
//                   one row walks Q trees of equal depth in lockstep (memory-image.ts GROUPS),
//                   storing leaf addresses, then adds the leaves in tree order
// `init` is the byte address of the starting sums (BM, or ZERO for averaged forests).
// The design is the probe's winner (fast-tree-inference.md): scalar loads, R rows interleaved in
// lockstep so their node -> slot -> compare chains overlap, dual-row slots filled once per row, one
// `slot >= thr` per node, heap walks unrolled by the tree's own depth (a br_table into a ladder of
// blocks, like a fall-through switch), generic (deep) trees walked `depth` steps through child
// addresses. Sums: f32.add in tree order when the model sums in float32 over float32 leaves, else
// f64 (rounded to float32 after every add when the model sums in float32: Math.fround(a + b)).
import {
  SLOT_NAN_LEFT,
  SLOT_NAN_RIGHT,
  SLOT_NONE,
  SLOT_ZERO_LEFT,
  SLOT_ZERO_RIGHT,
  ZERO_THRESHOLD,
} from '../flat-layout.js';
import { Code, encodeModule, F32, F64, type FuncDef, I32, type ValType } from './encoder.js';
import { groupStride, TABLE_STRIDE, type WasmPlan } from './memory-image.js';

class Locals {
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
function emitFill(c: Code, p: WasmPlan, R: number, L: Locals, row = 0, sbase?: number): void {
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
      c.get(sp);
      if (g === SLOT_NAN_LEFT) c.f64(-Infinity).get(x).get(z).select();
      else if (g === SLOT_NAN_RIGHT) c.f64(Infinity).get(x).get(z).select();
      else if (g === SLOT_NONE) c.f64(0).get(x).get(z).select();
      else if (g === SLOT_ZERO_LEFT) c.f64(-Infinity).get(x).get(zz).select();
      else if (g === SLOT_ZERO_RIGHT) c.f64(Infinity).get(x).get(zz).select();
      else c.get(x);
      // Slot layout stride is the plan's R (the one-row function fills row 0 of the same layout).
      const off = (sbase === undefined ? p.SLOTS : 0) + (gi * p.F * p.R + k) * p.E;
      if (f32) c.f32DemoteF64().f32Store(off);
      else c.f64Store(off);
    });
  }
  c.get(sp)
    .i32(p.R * p.E)
    .i32Add()
    .set(sp);
  c.get(ip).i32(8).i32Add().tee(ip).get(iend).i32LtU().brIf(0);
  c.end();
}

/** [slotByteOffset] -> slot value of row k (at SLOTS, or at the address in local `sbase`). */
function loadSlot(c: Code, p: WasmPlan, k: number, sbase?: number): void {
  const at = sbase === undefined ? p.SLOTS : 0;
  if (sbase !== undefined) c.get(sbase).i32Add();
  if (p.E === 4) c.f32Load(at + k * 4);
  else c.f64Load(at + k * 8);
}
function loadThrAndCompare(c: Code, p: WasmPlan): void {
  if (p.E === 4) c.f32Load(4).f32Ge();
  else c.f64Load(8).f64Ge();
}

/**
 * Per-row running sums: locals for single-column models, ACC in memory otherwise, or (tree-blocked
 * batches) the rows' OUT entries at the address in local `base`, where add()'s `goff` must already
 * include `base`.
 */
class Sums {
  readonly scalar: boolean;
  readonly accF32: boolean;
  readonly acc: number[];
  private readonly accAt: number;
  constructor(
    private readonly p: WasmPlan,
    private readonly R: number,
    L: Locals,
    private readonly base?: number,
  ) {
    this.accAt = base === undefined ? p.ACC : 0;
    this.scalar = p.G === 1 && p.W === 1;
    this.accF32 = p.leafF32;
    this.acc = this.scalar ? Array.from({ length: R }, () => L.add(this.accF32 ? F32 : F64)) : [];
  }

  /** Sums start at the `init` vector (param 1). `j` is an i32 scratch local. */
  init(c: Code, j: number): void {
    const p = this.p;
    if (this.scalar) {
      for (const a of this.acc) {
        c.get(1).f64Load(0);
        if (this.accF32) c.f32DemoteF64();
        c.set(a);
      }
      return;
    }
    c.i32(0).set(j).loop();
    for (let k = 0; k < this.R; k++)
      c.get(j)
        .get(1)
        .get(j)
        .i32Add()
        .f64Load(0)
        .f64Store(p.ACC + k * p.G * 8);
    c.get(j)
      .i32(8)
      .i32Add()
      .tee(j)
      .i32(p.G * 8)
      .i32LtU()
      .brIf(0)
      .end();
  }

  /** Row k adds the leaf at address `leaf` (a local) to margin column byte offset `goff` (a local). */
  add(c: Code, k: number, leaf: number, goff: number): void {
    const p = this.p;
    // Stack [sum, leaf] (f64) -> new sum; float32 sums round after every add, as Math.fround does.
    const addF64 = () => {
      c.f64Add();
      if (p.sumF32) c.f32DemoteF64().f64PromoteF32();
    };
    if (this.scalar) {
      const a = this.acc[k]!;
      if (this.accF32) c.get(a).get(leaf).f32Load(0).f32Add().set(a);
      else {
        c.get(a).get(leaf).f64Load(0);
        addF64();
        c.set(a);
      }
    } else if (p.W === 1) {
      const at = this.accAt + k * p.G * 8;
      c.get(goff).get(goff).f64Load(at).get(leaf);
      if (p.leafF32) c.f32Load(0).f64PromoteF32();
      else c.f64Load(0);
      addF64();
      c.f64Store(at);
    } else {
      for (let g = 0; g < p.W; g++) {
        const at = this.accAt + (k * p.G + g) * 8;
        const addr = () => (this.base === undefined ? c.i32(0) : c.get(this.base));
        addr();
        addr();
        c.f64Load(at).get(leaf);
        if (p.leafF32) c.f32Load(g * 4).f64PromoteF32();
        else c.f64Load(g * 8);
        addF64();
        c.f64Store(at);
      }
    }
  }

  /** Scalar sums of a tree-blocked batch: in from / out to the f64 OUT entries at `base`. */
  loadScalar(c: Code): void {
    for (let k = 0; k < this.R; k++) {
      c.get(this.base!).f64Load(k * 8);
      if (this.accF32) c.f32DemoteF64();
      c.set(this.acc[k]!);
    }
  }
  storeScalar(c: Code): void {
    for (let k = 0; k < this.R; k++) {
      c.get(this.base!).get(this.acc[k]!);
      if (this.accF32) c.f64PromoteF32();
      c.f64Store(k * 8);
    }
  }

  /** Margins of rows r .. r+R-1 (param 0 = r) into OUT. `addr`, `j` are i32 scratch locals. */
  out(c: Code, addr: number, j: number): void {
    const p = this.p;
    if (this.scalar) {
      for (let k = 0; k < this.R; k++) {
        c.get(0).i32(3).i32Shl().get(this.acc[k]!);
        if (this.accF32) c.f64PromoteF32();
        c.f64Store(p.OUT + k * 8);
      }
      return;
    }
    c.get(0)
      .i32(p.G * 8)
      .i32Mul()
      .set(addr);
    c.i32(0).set(j).loop();
    for (let k = 0; k < this.R; k++)
      c.get(addr)
        .get(j)
        .i32Add()
        .get(j)
        .f64Load(p.ACC + k * p.G * 8)
        .f64Store(p.OUT + k * p.G * 8);
    c.get(j)
      .i32(8)
      .i32Add()
      .tee(j)
      .i32(p.G * 8)
      .i32LtU()
      .brIf(0)
      .end();
  }
}

/**
 * Heap walks of K independent chains (rows or trees), unrolled by depth: a ladder of blocks entered
 * by br_table on `dep` runs exactly `dep` steps `i = 2i + (slot >= thr)` (i starts at 1).
 * Chain k walks the tree at node base nbs[k] with slot offset slotRow[k].
 */
function emitHeapLadder(
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
 */
function emitSharedRootLadder(
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
function emitHeapLeaf(c: Code, p: WasmPlan, i: number, la: number): void {
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
function emitGenericWalk(
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

interface TreeLoopLocals {
  tp: number;
  kind: number;
  dep: number;
  nb: number;
  la: number;
  goff: number;
  addr: number;
  /** the shared root's threshold (f32 or f64) */
  rt: number;
  idx: number[];
}

function treeLoopLocals(L: Locals, R: number, p: WasmPlan): TreeLoopLocals {
  const [tp, kind, dep, nb, la, goff, addr] = [0, 0, 0, 0, 0, 0, 0].map(() => L.add(I32)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const rt = L.add(p.E === 4 ? F32 : F64);
  return { tp, kind, dep, nb, la, goff, addr, rt, idx: Array.from({ length: R }, () => L.add(I32)) };
}

/**
 * R rows through the trees whose TABLE entries run from the address in `v.tp` to `end` (a local,
 * or a constant when a number is given as `endConst`), adding each leaf to `sums` in tree order.
 */
function emitTreeLoop(
  c: Code,
  p: WasmPlan,
  v: TreeLoopLocals,
  sums: Sums,
  end: { local: number } | { value: number },
  maxHeapDepth: number,
  hasGeneric: boolean,
  sbase?: number,
  obase?: number,
): void {
  const { tp, kind, dep, nb, la, goff, addr, rt, idx } = v;
  const rowsK = idx.map((_, k) => k);
  c.loop();
  c.get(tp).i32Load(0).set(kind);
  c.get(tp).i32Load(4).set(dep);
  c.get(tp).i32Load(8).set(nb);
  c.get(tp).i32Load(12).set(la);
  if (!sums.scalar && p.W === 1) {
    c.get(tp).i32Load(16);
    if (obase !== undefined) c.get(obase).i32Add();
    c.set(goff);
  }
  if (hasGeneric) c.get(kind).i32Eqz().if();
  // CPU ns/row, shared root vs not, same process: XGBoost 500x8 2.53-2.56 vs 2.77-2.82 us;
  // 100x4 and LightGBM unchanged within noise.
  emitSharedRootLadder(c, p, maxHeapDepth, dep, idx, nb, addr, rt, sbase);
  for (const i of idx) emitHeapLeaf(c, p, i, la);
  if (hasGeneric) {
    c.else();
    for (const i of idx) c.get(nb).set(i);
    emitGenericWalk(c, p, dep, idx, rowsK, sbase);
    c.end();
  }
  for (const [k, i] of idx.entries()) sums.add(c, k, i, goff);
  c.get(tp).i32(TABLE_STRIDE).i32Add().tee(tp);
  if ('local' in end) c.get(end.local);
  else c.i32(end.value);
  c.i32LtU().brIf(0);
  c.end();
}

/** The walk of R rows through every tree, then their margins into OUT (param 0 = first row). */
function blockFunction(p: WasmPlan, R: number, maxHeapDepth: number, hasGeneric: boolean): FuncDef {
  const c = new Code();
  const L = new Locals(2);
  emitFill(c, p, R, L);
  const v = treeLoopLocals(L, R, p);
  const j = L.add(I32);
  const sums = new Sums(p, R, L);
  sums.init(c, j);
  if (p.T > 0) {
    c.i32(p.TABLE).set(v.tp);
    emitTreeLoop(c, p, v, sums, { value: p.TABLE + p.T * TABLE_STRIDE }, maxHeapDepth, hasGeneric);
  }
  sums.out(c, v.addr, j);
  return { params: [I32, I32], results: [], locals: L.types, body: c };
}

/**
 * batchBlocked(n, init), for models too big for the L2 cache: the slots of all n rows (rounded up
 * to R; INPUT past n holds any finite or NaN values, and OUT has room) are filled first, at
 * SLOTS + r*S*E; then each block of trees (BLOCKS: [first, end) TABLE addresses, sized to stay in
 * cache) walks every row group before the next block, with the sums kept in OUT. Every row still
 * adds its leaves in tree order.
 */
function blockedBatchFunction(p: WasmPlan, maxHeapDepth: number, hasGeneric: boolean): FuncDef {
  const R = p.R;
  const c = new Code();
  const L = new Locals(2);
  const row = L.add(I32);
  const rows = L.add(I32);
  const sbase = L.add(I32);
  const obase = L.add(I32);
  const bp = L.add(I32);
  const tend = L.add(I32);
  const j = L.add(I32);
  const v = treeLoopLocals(L, R, p);
  const sums = new Sums(p, R, L, obase);
  const groupBases = () => {
    c.get(row)
      .i32(p.S * p.E)
      .i32Mul()
      .i32(p.SLOTS)
      .i32Add()
      .set(sbase);
    c.get(row)
      .i32(p.G * 8)
      .i32Mul()
      .i32(p.OUT)
      .i32Add()
      .set(obase);
  };
  c.get(0)
    .i32(R - 1)
    .i32Add()
    .i32(-R)
    .i32And()
    .set(rows);
  // Slots and starting sums of every row group.
  c.i32(0).set(row).loop();
  groupBases();
  emitFill(c, p, R, L, row, sbase);
  c.i32(0).set(j).loop();
  for (let k = 0; k < R; k++)
    c.get(obase)
      .get(j)
      .i32Add()
      .get(1)
      .get(j)
      .i32Add()
      .f64Load(0)
      .f64Store(k * p.G * 8);
  c.get(j)
    .i32(8)
    .i32Add()
    .tee(j)
    .i32(p.G * 8)
    .i32LtU()
    .brIf(0)
    .end();
  c.get(row).i32(R).i32Add().tee(row).get(rows).i32LtU().brIf(0).end();
  // Tree blocks, each over every row group.
  if (p.T > 0) {
    c.i32(p.BLOCKS).set(bp).loop();
    c.get(bp).i32Load(4).set(tend);
    c.i32(0).set(row).loop();
    groupBases();
    if (sums.scalar) sums.loadScalar(c);
    c.get(bp).i32Load(0).set(v.tp);
    emitTreeLoop(c, p, v, sums, { local: tend }, maxHeapDepth, hasGeneric, sbase, obase);
    if (sums.scalar) sums.storeScalar(c);
    c.get(row).i32(R).i32Add().tee(row).get(rows).i32LtU().brIf(0).end();
    c.get(bp)
      .i32(8)
      .i32Add()
      .tee(bp)
      .i32(p.BLOCKS + 8 * p.blocks.length)
      .i32LtU()
      .brIf(0)
      .end();
  }
  return { params: [I32, I32], results: [], locals: L.types, body: c, export: 'batchBlocked' };
}

/** One row (param 0 = r): Q trees in lockstep per GROUPS entry, then the leaves in tree order. */
function oneRowFunction(p: WasmPlan, maxHeapDepth: number, hasGeneric: boolean): FuncDef {
  const c = new Code();
  const L = new Locals(2);
  emitFill(c, p, 1, L);
  const gp = L.add(I32);
  const dep = L.add(I32);
  const addr = L.add(I32);
  const j = L.add(I32);
  const leaf = L.add(I32);
  const goff = L.add(I32);
  const tp = L.add(I32);
  const Q = p.Q;
  const idx = Array.from({ length: Q }, () => L.add(I32));
  const nbs = Array.from({ length: Q }, () => L.add(I32));
  const row0 = idx.map(() => 0);
  const stride = groupStride(Q);
  if (p.groupsInOrder) {
    // The groups are consecutive trees in tree order (equal-depth heap models): each chain's leaf is
    // added as soon as its group is walked, and the entries' third word is the margin column
    // offset. Full groups loop; a short last group gets code for exactly its trees.
    const sums = new Sums(p, 1, L);
    sums.init(c, j);
    const walkGroup = (count: number, at: () => void) => {
      const chains = idx.slice(0, count);
      for (const [k, nb] of nbs.slice(0, count).entries()) {
        at();
        c.i32Load(8 + 12 * k).set(nb);
      }
      at();
      c.i32Load(4).set(dep);
      emitHeapLadder(c, p, maxHeapDepth, dep, chains, nbs, row0, addr);
      chains.forEach((i, k) => {
        at();
        c.i32Load(12 + 12 * k).set(nbs[k]!);
        emitHeapLeaf(c, p, i, nbs[k]!);
        if (!sums.scalar && p.W === 1) {
          at();
          c.i32Load(16 + 12 * k).set(goff);
        }
        sums.add(c, 0, i, goff);
      });
    };
    const full = p.groups.filter((g) => g.trees.length === Q).length;
    if (full > 0) {
      c.i32(p.GROUPS).set(gp).loop();
      walkGroup(Q, () => c.get(gp));
      c.get(gp)
        .i32(stride)
        .i32Add()
        .tee(gp)
        .i32(p.GROUPS + full * stride)
        .i32LtU()
        .brIf(0);
      c.end();
    }
    if (full < p.groups.length)
      walkGroup(p.groups.at(-1)!.trees.length, () => c.i32(p.GROUPS + full * stride));
    sums.out(c, addr, j);
    return { params: [I32, I32], results: [], locals: L.types, body: c };
  }
  if (p.groups.length > 0) {
    c.i32(p.GROUPS).set(gp).loop();
    c.get(gp).i32Load(4).set(dep);
    if (hasGeneric) c.get(gp).i32Load(0).i32Eqz().if();
    for (const [k, nb] of nbs.entries())
      c.get(gp)
        .i32Load(8 + 12 * k)
        .set(nb);
    emitHeapLadder(c, p, maxHeapDepth, dep, idx, nbs, row0, addr);
    idx.forEach((i, k) => {
      c.get(gp)
        .i32Load(12 + 12 * k)
        .set(nbs[k]!);
      emitHeapLeaf(c, p, i, nbs[k]!);
      c.get(gp)
        .i32Load(16 + 12 * k)
        .get(i)
        .i32Store(0);
    });
    if (hasGeneric) {
      c.else();
      for (const [k, i] of idx.entries())
        c.get(gp)
          .i32Load(8 + 12 * k)
          .set(i);
      emitGenericWalk(c, p, dep, idx, row0);
      for (const [k, i] of idx.entries())
        c.get(gp)
          .i32Load(16 + 12 * k)
          .get(i)
          .i32Store(0);
      c.end();
    }
    c.get(gp)
      .i32(stride)
      .i32Add()
      .tee(gp)
      .i32(p.GROUPS + p.groups.length * stride)
      .i32LtU()
      .brIf(0);
    c.end();
  }
  const sums = new Sums(p, 1, L);
  sums.init(c, j);
  if (p.T > 0) {
    c.i32(0).set(tp).loop();
    c.get(tp).i32(2).i32Shl().i32Load(p.LEAFAT).set(leaf);
    if (!sums.scalar && p.W === 1)
      c.get(tp)
        .i32(5)
        .i32Shl()
        .i32Load(p.TABLE + 16)
        .set(goff);
    sums.add(c, 0, leaf, goff);
    c.get(tp).i32(1).i32Add().tee(tp).i32(p.T).i32LtU().brIf(0);
    c.end();
  }
  sums.out(c, addr, j);
  return { params: [I32, I32], results: [], locals: L.types, body: c };
}

/** batch(n, init): blocks of R rows (function 1), then the remainder one row at a time (function 0). */
function batchFunction(R: number): FuncDef {
  const c = new Code();
  const r = 2;
  c.i32(0).set(r);
  if (R > 1) {
    c.block().loop();
    c.get(r).i32(R).i32Add().get(0).i32(1).i32Add().i32LtS().i32Eqz().brIf(1);
    c.get(r).get(1).call(1);
    c.get(r).i32(R).i32Add().set(r).br(0);
    c.end().end();
  }
  c.block().loop();
  c.get(r).get(0).i32LtS().i32Eqz().brIf(1);
  c.get(r).get(1).call(0);
  c.get(r).i32(1).i32Add().set(r).br(0);
  c.end().end();
  return { params: [I32, I32], results: [], locals: [I32], body: c, export: 'batch' };
}

export function kernelModuleBytes(p: WasmPlan, maxHeapDepth: number, hasGeneric: boolean): Uint8Array {
  const funcs: FuncDef[] = [
    blockFunction(p, 1, maxHeapDepth, hasGeneric),
    p.R > 1 ? blockFunction(p, p.R, maxHeapDepth, hasGeneric) : blockFunction(p, 1, maxHeapDepth, hasGeneric),
    batchFunction(p.R),
    { ...oneRowFunction(p, maxHeapDepth, hasGeneric), export: 'one' },
    blockedBatchFunction(p, maxHeapDepth, hasGeneric),
  ];
  return encodeModule(funcs, p.pages);
}
