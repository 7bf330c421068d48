// Emits the WebAssembly tree kernel of one model (memory-image.ts says where everything lives):
//   batch(n, init)        margins of INPUT rows [0, n) into OUT: blocks of R rows, then single rows
//   batchBlocked(n, init) the same for models bigger than L2: cache-sized blocks of trees, each
//                         over every row of the chunk
//   one(r, init)          margins of INPUT row r (a one-row predict: copy the row in, one call,
//                         read OUT); Q trees walk in lockstep (memory-image.ts GROUPS)
// `init` is the byte address of the starting sums (BM, or ZERO for averaged forests).
// The design is the fastest of the kernel shapes a probe compared: scalar loads, R rows interleaved in
// lockstep so their node -> slot -> compare chains overlap, dual-row slots filled once per row, one
// `slot >= thr` per node, heap walks unrolled by the tree's own depth (a br_table into a ladder of
// blocks, like a fall-through switch), generic (deep) trees walked `depth` steps through child
// addresses, categorical trees likewise with a branch-free bitset step (categorical-walk.ts). Every
// row adds its leaves in tree order (sums-emitter.ts).

import { Code, encodeModule, F32, F64, type FuncDef, I32 } from '../../wasm/encoder.js';
import { type CatScratch, catScratch, emitNonHeapWalk } from './categorical-walk.js';
import { groupStride, TABLE_STRIDE, type WasmPlan } from './memory-image.js';
import { Sums } from './sums-emitter.js';
import { emitFill, emitHeapLadder, emitHeapLeaf, emitSharedRootLadder, Locals } from './walk-emitters.js';

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
  /** scratch of categorical walks (models with categorical trees only) */
  cat?: CatScratch;
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
  const idx = Array.from({ length: R }, () => L.add(I32));
  return { tp, kind, dep, nb, la, goff, addr, rt, idx, cat: p.cat ? catScratch(L) : undefined };
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
  const hasCat = v.cat !== undefined;
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
  if (hasGeneric || hasCat) c.get(kind).i32Eqz().if();
  // CPU ns/row, shared root vs not, same process: XGBoost 500x8 2.53-2.56 vs 2.77-2.82 us;
  // 100x4 and LightGBM unchanged within noise.
  emitSharedRootLadder(c, p, maxHeapDepth, dep, idx, nb, addr, rt, sbase);
  for (const i of idx) emitHeapLeaf(c, p, i, la);
  if (hasGeneric || hasCat) {
    c.else();
    for (const i of idx) c.get(nb).set(i);
    emitNonHeapWalk(c, p, hasGeneric, kind, dep, idx, rowsK, v.cat, sbase);
    c.end();
  }
  for (const [k, i] of idx.entries()) sums.add(c, k, i, goff);
  c.nextWhileBelow(tp, TABLE_STRIDE, 'local' in end ? end : end.value);
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
  c.nextWhileBelow(j, 8, p.G * 8).end();
  c.nextWhileBelow(row, R, { local: rows }).end();
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
    c.nextWhileBelow(row, R, { local: rows }).end();
    c.nextWhileBelow(bp, 8, p.BLOCKS + 8 * p.blocks.length).end();
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
  const cat = p.cat ? catScratch(L) : undefined;
  const kind = cat ? L.add(I32) : -1;
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
      c.nextWhileBelow(gp, stride, p.GROUPS + full * stride);
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
    if (hasGeneric || cat) c.get(gp).i32Load(0).i32Eqz().if();
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
    if (hasGeneric || cat) {
      c.else();
      for (const [k, i] of idx.entries())
        c.get(gp)
          .i32Load(8 + 12 * k)
          .set(i);
      if (cat && hasGeneric) c.get(gp).i32Load(0).set(kind);
      emitNonHeapWalk(c, p, hasGeneric, kind, dep, idx, row0, cat);
      for (const [k, i] of idx.entries())
        c.get(gp)
          .i32Load(16 + 12 * k)
          .get(i)
          .i32Store(0);
      c.end();
    }
    c.nextWhileBelow(gp, stride, p.GROUPS + p.groups.length * stride);
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
    c.nextWhileBelow(tp, 1, p.T);
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
