// Running sums of the WebAssembly kernel's rows, emitted in tree order with the model's precision:
// f32.add over float32 leaves (XGBoost: equal to Math.fround(a + b)), else f64 adds, rounded to
// float32 after every add when the model sums in float32.
import { type Code, F32, F64 } from '../../wasm/encoder.js';
import type { WasmPlan } from './memory-image.js';
import type { Locals } from './walk-emitters.js';

/**
 * Per-row running sums: locals for single-column models, ACC in memory otherwise, or (tree-blocked
 * batches) the rows' OUT entries at the address in local `base`, where add()'s `goff` must already
 * include `base`.
 */
export class Sums {
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
    c.nextWhileBelow(j, 8, p.G * 8).end();
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
    c.nextWhileBelow(j, 8, p.G * 8).end();
  }
}
