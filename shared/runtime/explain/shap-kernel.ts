// The per-tree TreeSHAP passes (tree-shap.ts explains the mathematics), generated as JavaScript
// per quadrature size m and leaf width W and compiled once with `new Function`, as the margin
// kernels are (shared/runtime/trees/kernels.ts): the m quadrature nodes and weights become
// literals, the m-wide vectors of each node are unrolled into locals, so a split costs a handful
// of multiply-adds per node and no loop. Only numbers computed here shape the source (m, W and the
// Gauss-Legendre constants); nothing read from a model file or a request becomes code.
//
// Per row and tree, inner nodes i = 0 .. nI - 1 (twigs from ts on) and leaves after them
// (shap-trees.ts):
//   down(b, nI, ts): the branch the row takes (go), whether the row is still on the path of the
//     node's feature (st: 0 once an earlier split on it sent the row the other way), the
//     one-fraction of the edge into each inner child (oin) and the down products D (m per node);
//     twigs only decide (their children are leaves, whose D nothing reads);
//   up(b, nI, ts, out, o): the up sums U and each split's contribution added to out[o + feature];
//     twigs read their leaves' values from their record (leaf width 1) or from U, where the
//     caller copied them (wider leaves, and trees whose other inner nodes have leaf children);
//   trees(list, n, out, o0, F1): both passes for the listed trees (leaf width 1), each adding to
//     its margin column's block at o0 + group * F1.
// Branch-free but for categorical splits: the row's state picks record fields by index (merged or
// own cover fractions), and a split that is not repeated reads a run of ones for 1 / F_pc and 0
// for 1 - Z_pc, which makes the repeated-split formulas reduce exactly to the plain ones; a row
// off the feature's path (st = 0) gets b = 0, so the edge ratio is its own cover fraction and the
// split adds exactly 0.
import { gaussLegendre } from './gauss-legendre.js';
import {
  F_BP,
  F_THR,
  F_VL,
  F_VR,
  F_ZL,
  F_ZR,
  I_FEATURE,
  I_FLAT,
  I_INV,
  I_KIND,
  I_LEFT,
  I_PREV,
  I_RIGHT,
  I_SLOT,
  ONES,
  REC,
} from './shap-trees.js';

export interface ShapScratch {
  /** Slot row of the current input row. */
  sl: Float64Array;
  D: Float64Array;
  U: Float64Array;
  go: Uint8Array;
  st: Uint8Array;
  oin: Uint8Array;
}

export interface ShapPasses {
  down(b: number, nI: number, ts: number): void;
  up(b: number, nI: number, ts: number, out: Float64Array, o: number): void;
  /** Leaf width 1: both passes for trees list[0 .. n), into out at o0 + group * F1. */
  trees(list: Int32Array, n: number, out: Float64Array, o0: number, F1: number): void;
}

export interface ShapKernelInputs {
  ints: Int32Array;
  floats: Float64Array;
  inv: Float64Array;
  start: Int32Array;
  twigStart: Int32Array;
  mixed: Uint8Array;
  group: Int32Array;
  leafStart: Int32Array;
  /** Leaves' up values per tree (each leaf value m times) at luOff[t] (shap-trees.ts). */
  leafU: Float64Array;
  luOff: Int32Array;
  scratch: ShapScratch;
  /** 1 if categorical flat node j sends slot value x right (slot-row.ts categoricalRight). */
  catRight: (j: number, x: number) => number;
}

const lit = (x: number) => (Object.is(x, -0) ? '-0' : String(x));

function source(m: number, leafWidth1: boolean): string {
  const q = gaussLegendre(m);
  const K = [...Array(m).keys()];
  const T = (k: number) => lit(q.t[k]!);
  const Wt = (k: number) => lit(q.w[k]!);
  const each = (f: (k: number) => string) => K.map(f).join(' ');
  // Fields for st = 1 at F_ZL / F_ZR, for st = 0 two further (F_OWN_L / F_OWN_R).
  const pick = `const zl = nf[p + ${F_ZL + 2} - 2 * s], zr = nf[p + ${F_ZR + 2} - 2 * s];
    const bl = s * ((g ^ 1) - zl), br = s * (g - zr);
    const io = ${ONES} + s * (ni[p + ${I_INV}] - ${ONES});`;
  const decide = `const x = sl[ni[p + ${I_SLOT}]];
    const g = ni[p + ${I_KIND}] !== 0 ? catRight(ni[p + ${I_FLAT}], x) : (x >= nf[p + ${F_THR}]) | 0;
    const s = oin[ni[p + ${I_PREV}]];
    go[i] = g;
    st[i] = s;`;
  const upNode = (leaves: 'record' | 'u') => `const p = (b + i) * ${REC};
    const s = st[i], g = go[i];
    ${pick}
    const bp = s * nf[p + ${F_BP}];
    const ui = i * ${m};
    ${
      leaves === 'record'
        ? `const vl = nf[p + ${F_VL}], vr = nf[p + ${F_VR}];`
        : `const li = ni[p + ${I_LEFT}] * ${m}, ri = ni[p + ${I_RIGHT}] * ${m};`
    }
    ${each((k) => {
      const [l, r] = leaves === 'record' ? ['vl', 'vr'] : [`l${k}`, `r${k}`];
      const load = leaves === 'record' ? '' : `const l${k} = U[li + ${k}], r${k} = U[ri + ${k}]; `;
      return `${load}const i${k} = inv[io + ${k}]; const u${k} = ((zl + bl * ${T(k)}) * ${l} + (zr + br * ${T(k)}) * ${r}) * i${k}; U[ui + ${k}] = u${k}; const c${k} = bl * ${l} + br * ${r};`;
    })}
    out[o + ni[p + ${I_FEATURE}]] += ${K.map((k) => `${Wt(k)} * D[ui + ${k}] * i${k} * (c${k} - bp * u${k})`).join(' + ')};`;
  return `
"use strict";
const ni = A.ints, nf = A.floats, inv = A.inv, catRight = A.catRight;
const start = A.start, twigStart = A.twigStart, mixed = A.mixed, group = A.group;
const leafU = A.leafU, luOff = A.luOff, leafStart = A.leafStart;
const S = A.scratch, sl = S.sl, D = S.D, U = S.U, go = S.go, st = S.st, oin = S.oin;
function down(b, nI, ts) {
  ${each((k) => `D[${k}] = 1;`)}
  oin[0] = 1;
  for (let i = 0; i < ts; i++) {
    const p = (b + i) * ${REC};
    ${decide}
    ${pick}
    const di = i * ${m}, lc = ni[p + ${I_LEFT}], rc = ni[p + ${I_RIGHT}], li = lc * ${m}, ri = rc * ${m};
    oin[lc] = s & (g ^ 1);
    oin[rc] = s & g;
    ${each((k) => `const d${k} = D[di + ${k}], i${k} = inv[io + ${k}]; D[li + ${k}] = d${k} * (zl + bl * ${T(k)}) * i${k}; D[ri + ${k}] = d${k} * (zr + br * ${T(k)}) * i${k};`)}
  }
  for (let i = ts; i < nI; i++) {
    const p = (b + i) * ${REC};
    ${decide}
  }
}
function up(b, nI, ts, out, o) {
  for (let i = nI - 1; i >= ts; i--) {
    ${upNode(leafWidth1 ? 'record' : 'u')}
  }
  for (let i = ts - 1; i >= 0; i--) {
    ${upNode('u')}
  }
}
function trees(list, n, out, o0, F1) {
  for (let j = 0; j < n; j++) {
    const t = list[j], b = start[t], nI = start[t + 1] - b;
    if (nI === 0) continue;
    const ts = twigStart[t];
    down(b, nI, ts);
    if (mixed[t] !== 0) {
      const lo = luOff[t];
      U.set(leafU.subarray(lo, lo + (leafStart[t + 1] - leafStart[t]) * ${m}), nI * ${m});
    }
    up(b, nI, ts, out, o0 + group[t] * F1);
  }
}
return { down, up, trees };`;
}

const cache = new Map<string, (a: ShapKernelInputs) => ShapPasses>();

/** The passes for quadrature size m and leaf width (1 or wider), bound to one explainer's arrays. */
export function makeShapPasses(m: number, leafWidth: number, inputs: ShapKernelInputs): ShapPasses {
  const src = source(m, leafWidth === 1);
  let factory = cache.get(src);
  if (!factory) {
    factory = new Function('A', src) as (a: ShapKernelInputs) => ShapPasses;
    cache.set(src, factory);
  }
  return factory(inputs);
}
