// Margin kernels over the flat layout (flat-layout.ts), generated as JavaScript source per model
// variant and compiled once with `new Function`: each variant gets its own V8 code and type
// feedback (monomorphic even when a worker holds XGBoost f32 and LightGBM f64 models side by side),
// the heap walk is unrolled by depth (a fall-through switch), and R rows advance through each tree
// in lockstep so their independent node -> slot -> compare chains overlap (4-8
// independent walks at once keep a core's pipelines busy). Branch-free steps use `(x >= t) | 0` (V8 turns a ternary into
// a branch).
//
// Nothing from a model file ever becomes source: the generators read only a KernelShape
// (kernel-shape.ts: integers through `lit`, booleans, names from fixed sets). The descriptor itself
// is checked before a model gets here (layout-checks.ts); `lit` holds the line even for a caller
// that skipped that.
import type { TreesDescriptorExtra } from './flat-layout.js';
import {
  MAX_HEAP_DEPTH,
  SLOT_NAN_LEFT,
  SLOT_NAN_RIGHT,
  SLOT_NONE,
  SLOT_RAW,
  SLOT_ZERO_LEFT,
  SLOT_ZERO_RIGHT,
  ZERO_THRESHOLD,
} from './flat-layout.js';
import { type KernelShape, kernelShape, lit, type Side } from './kernel-shape.js';

export interface TreeArrays {
  table: Int32Array;
  group: Int32Array;
  groupTreeCount: Int32Array;
  nodeSlot: Int32Array;
  nodeThr: Float32Array | Float64Array;
  kids: Int32Array;
  nodeCat: Int32Array;
  nodeCatWords: Int32Array;
  nodeFlags: Uint8Array;
  catBits: Uint32Array;
  leafValue: Float64Array;
  baseMargin: Float64Array;
  /** Linear leaves (flat-layout.ts "Linear leaves"); empty unless the descriptor's hasLinear. */
  linConst: Float64Array;
  linOffset: Int32Array;
  linCount: Int32Array;
  linFeature: Int32Array;
  linCoeff: Float64Array;
}

/** Writes `rows` rows' margins (numGroups each) from row-major `input` starting at row `first`. */
export type MarginKernel = (
  input: Float64Array,
  first: number,
  rows: number,
  out: Float64Array,
  outFirst: number,
) => void;

export interface KernelOptions {
  /** Rows walked in lockstep (1, 2, 4 or 8); 1 with `treeLockstep` walks 4 trees of one row at once. */
  interleave: number;
  treeLockstep?: boolean;
}

function fillSource(d: KernelShape): string {
  const F = d.F;
  const fr = d.f32Input ? 'Math.fround' : '';
  const lines = [
    `for (let f = 0; f < ${F}; f++) {`,
    `  const x = ${fr}(input[off + f]);`,
    '  const z = x !== x;',
  ];
  const zero = d.groups.includes(SLOT_ZERO_LEFT) || d.groups.includes(SLOT_ZERO_RIGHT);
  if (zero) lines.push(`  const zz = z || (x >= -${ZERO_THRESHOLD} && x <= ${ZERO_THRESHOLD});`);
  d.groups.forEach((g, idx) => {
    const at = `sl[o + ${lit(idx * Number(F))} + f]`;
    if (g === SLOT_NAN_LEFT) lines.push(`  ${at} = z ? -Infinity : x;`);
    else if (g === SLOT_NAN_RIGHT) lines.push(`  ${at} = z ? Infinity : x;`);
    else if (g === SLOT_NONE) lines.push(`  ${at} = z ? 0 : x;`);
    else if (g === SLOT_ZERO_LEFT) lines.push(`  ${at} = zz ? -Infinity : x;`);
    else if (g === SLOT_ZERO_RIGHT) lines.push(`  ${at} = zz ? Infinity : x;`);
    else if (g === SLOT_RAW) lines.push(`  ${at} = x;`);
  });
  lines.push('}');
  return `function fill(input, off, o) {\n${lines.join('\n')}\n}`;
}

function catWalkSource(d: KernelShape): string {
  // tree-ir.ts CategoricalRule: NaN -> rule.nan; c = trunc(x); invalid (negative by the rule's
  // test, or beyond the node's bitset, which includes +Infinity) -> rule.invalid; else the set's side.
  const sideRight = (rule: Side) => (rule === 'default' ? '(nf[n] & 1) ^ 1' : rule === 'left' ? '0' : '1');
  const negative = d.catNegativeValue ? 'x < 0' : 'v < 0';
  const inSetRight = d.catInSetLeft ? 'inSet ^ 1' : 'inSet';
  return `function catWalk(n, o) {
  while (kids[2 * n] !== n) {
    const cat = nc[n];
    let right;
    if (cat < 0) {
      right = (sl[o + ns[n]] >= nt[n]) | 0;
    } else {
      const x = sl[o + ns[n]];
      const v = Math.trunc(x);
      if (x !== x) right = ${sideRight(d.catNan)};
      else if (${negative} || v >= 32 * ncw[n]) right = ${sideRight(d.catInvalid)};
      else {
        const inSet = (cb[cat + (v >>> 5)] >>> (v & 31)) & 1;
        right = ${inSetRight};
      }
    }
    n = kids[2 * n + right];
  }
  return n;
}`;
}

/**
 * A linear leaf's output (flat-layout.ts "Linear leaves"; LightGBM Tree::Predict with is_linear_):
 * the constant plus coeff * x over the leaf's terms in order, in double; NaN in any term's input
 * gives the plain leaf value; |x| <= 1e-35f reads as 0 (LightGBM's dense-row input path).
 * Generated only for models with linear leaves, so every other model's kernel source is unchanged.
 */
function linearLeafSource(d: KernelShape): string {
  const fr = d.f32Input ? 'Math.fround' : '';
  return `function linLeaf(input, off, s) {
  let a = lc[s];
  for (let j = lo[s], e = j + ln[s]; j < e; j++) {
    const x = ${fr}(input[off + lf[j]]);
    if (x !== x) return lv[s];
    a += lk[j] * (x >= -${ZERO_THRESHOLD} && x <= ${ZERO_THRESHOLD} ? 0 : x);
  }
  return a;
}`;
}

/** The expression a tree adds for leaf slot `idx` of the row starting at input offset `rowOff`. */
function leafExpr(d: KernelShape, idx: string, rowOff: string): string {
  return d.hasLinear ? `linLeaf(input, ${rowOff}, ${idx})` : `lv[${idx}]`;
}

function blockSource(d: KernelShape, R: number): string {
  const G = d.G;
  const W = d.W;
  const FR = d.f32Sum ? 'Math.fround' : '';
  const S = d.S;
  const scalar = d.scalar;
  const rows = [...Array(Number(lit(R))).keys()];
  const L: string[] = [];
  L.push(`for (; r + ${R} <= end; r += ${R}) {`);
  for (const k of rows) L.push(`  fill(input, (r + ${k}) * ${d.F}, ${lit(k * S)});`);
  if (scalar) {
    const init = d.average ? '0' : 'bm[0]';
    for (const k of rows) L.push(`  let a${k} = ${init};`);
  } else {
    L.push(`  for (let g = 0; g < ${lit(R * Number(G))}; g++) acc[g] = ${d.average ? '0' : `bm[g % ${G}]`};`);
  }
  L.push(`  for (let t = 0, q = 0; t < ${d.T}; t++, q += 4) {`);
  L.push('    const kind = tt[q], dep = tt[q + 1], nb = tt[q + 2], lb = tt[q + 3];');
  for (const k of rows) L.push(`    let i${k} = 0;`);
  L.push('    if (kind === 0) {');
  L.push('      switch (dep) {');
  for (let s = MAX_HEAP_DEPTH; s >= 1; s--) {
    L.push(`        case ${s}:`);
    for (const k of rows)
      L.push(
        `          { const j = nb + i${k}; i${k} = 2 * i${k} + 1 + ((sl[${lit(k * S)} + ns[j]] >= nt[j]) | 0); }`,
      );
  }
  L.push('      }');
  L.push('      const base = lb - ((1 << dep) - 1);');
  for (const k of rows) L.push(`      i${k} += base;`);
  L.push('    } else {');
  L.push('      if (kind === 1) {');
  for (const k of rows) L.push(`        i${k} = nb;`);
  L.push('        for (let s = 0; s < dep; s++) {');
  for (const k of rows)
    L.push(`          i${k} = kids[2 * i${k} + ((sl[${lit(k * S)} + ns[i${k}]] >= nt[i${k}]) | 0)];`);
  L.push('        }');
  L.push('      } else {');
  for (const k of rows) L.push(`        i${k} = catWalk(nb, ${lit(k * S)});`);
  L.push('      }');
  L.push('      const base = lb - nb;');
  for (const k of rows) L.push(`      i${k} += base;`);
  L.push('    }');
  const leaf = (k: number) => leafExpr(d, `i${k}`, `(r + ${k}) * ${d.F}`);
  if (scalar) {
    for (const k of rows) L.push(`    a${k} = ${FR}(a${k} + ${leaf(k)});`);
  } else if (!d.vectorLeaves) {
    L.push('    const g = tg[t];');
    for (const k of rows) {
      const kg = lit(k * Number(G));
      L.push(`    acc[${kg} + g] = ${FR}(acc[${kg} + g] + ${leaf(k)});`);
    }
  } else {
    L.push(`    for (let c = 0; c < ${W}; c++) {`);
    for (const k of rows)
      L.push(
        `      acc[${lit(k * Number(G))} + c] = ${FR}(acc[${lit(k * Number(G))} + c] + lv[i${k} * ${W} + c]);`,
      );
    L.push('    }');
  }
  L.push('  }');
  // Rows' margins out (random forests: mean of the trees, then the base margin).
  if (scalar) {
    for (const k of rows) {
      const v = d.average ? `(gc[0] > 0 ? a${k} / gc[0] : 0) + bm[0]` : `a${k}`;
      L.push(`  out[o0 + (r - first) + ${k}] = ${v};`);
    }
  } else {
    L.push(`  for (let k = 0; k < ${R}; k++) for (let g = 0; g < ${G}; g++) {`);
    const v = d.average ? `(gc[g] > 0 ? acc[k * ${G} + g] / gc[g] : 0) + bm[g]` : `acc[k * ${G} + g]`;
    L.push(`    out[o0 + (r - first + k) * ${G} + g] = ${v};`);
    L.push('  }');
  }
  L.push('}');
  return L.join('\n');
}

/**
 * One row, four trees in lockstep: consecutive heap trees walk their common depth together (their
 * chains are independent), then each finishes alone; leaves are added in tree order, so float32
 * sums are bit-identical to the batch kernel's.
 */
function oneRowSource(d: KernelShape): string {
  const G = d.G;
  const W = d.W;
  const FR = d.f32Sum ? 'Math.fround' : '';
  const scalar = d.scalar;
  const add = (idx: string, t: string): string => {
    const leaf = leafExpr(d, idx, `r * ${d.F}`);
    if (scalar) return `a0 = ${FR}(a0 + ${leaf});`;
    if (!d.vectorLeaves) return `{ const g = tg[${t}]; acc[g] = ${FR}(acc[g] + ${leaf}); }`;
    return `for (let c = 0; c < ${W}; c++) acc[c] = ${FR}(acc[c] + lv[(${idx}) * ${W} + c]);`;
  };
  const Q = [0, 1, 2, 3];
  const L: string[] = [];
  L.push('for (; r < end; r++) {');
  L.push(`  fill(input, r * ${d.F}, 0);`);
  if (scalar) L.push(`  let a0 = ${d.average ? '0' : 'bm[0]'};`);
  else L.push(`  for (let g = 0; g < ${G}; g++) acc[g] = ${d.average ? '0' : 'bm[g]'};`);
  L.push('  let t = 0, q = 0;');
  L.push(`  while (t < ${d.T}) {`);
  L.push(`    if (t + 4 <= ${d.T} && (tt[q] | tt[q + 4] | tt[q + 8] | tt[q + 12]) === 0) {`);
  for (const k of Q) L.push(`      const d${k} = tt[q + ${4 * k + 1}], nb${k} = tt[q + ${4 * k + 2}];`);
  L.push('      const dm = Math.min(d0, d1, d2, d3);');
  L.push('      let i0 = 0, i1 = 0, i2 = 0, i3 = 0;');
  L.push('      switch (dm) {');
  for (let s = MAX_HEAP_DEPTH; s >= 1; s--) {
    L.push(`        case ${s}:`);
    for (const k of Q)
      L.push(`          { const j = nb${k} + i${k}; i${k} = 2 * i${k} + 1 + ((sl[ns[j]] >= nt[j]) | 0); }`);
  }
  L.push('      }');
  for (const k of Q) {
    L.push(
      `      for (let s = dm; s < d${k}; s++) { const j = nb${k} + i${k}; i${k} = 2 * i${k} + 1 + ((sl[ns[j]] >= nt[j]) | 0); }`,
    );
  }
  for (const k of Q) L.push(`      ${add(`tt[q + ${4 * k + 3}] + i${k} - ((1 << d${k}) - 1)`, `t + ${k}`)}`);
  L.push('      t += 4; q += 16;');
  L.push('      continue;');
  L.push('    }');
  L.push('    const kind = tt[q], dep = tt[q + 1], nb = tt[q + 2], lb = tt[q + 3];');
  L.push('    let i = 0;');
  L.push('    if (kind === 0) {');
  L.push(
    '      for (let s = 0; s < dep; s++) { const j = nb + i; i = 2 * i + 1 + ((sl[ns[j]] >= nt[j]) | 0); }',
  );
  L.push('      i += lb - ((1 << dep) - 1);');
  L.push('    } else {');
  L.push(
    '      if (kind === 1) { i = nb; for (let s = 0; s < dep; s++) i = kids[2 * i + ((sl[ns[i]] >= nt[i]) | 0)]; }',
  );
  L.push('      else i = catWalk(nb, 0);');
  L.push('      i += lb - nb;');
  L.push('    }');
  L.push(`    ${add('i', 't')}`);
  L.push('    t++; q += 4;');
  L.push('  }');
  if (scalar) {
    L.push(`  out[o0 + (r - first)] = ${d.average ? '(gc[0] > 0 ? a0 / gc[0] : 0) + bm[0]' : 'a0'};`);
  } else {
    const v = d.average ? '(gc[g] > 0 ? acc[g] / gc[g] : 0) + bm[g]' : 'acc[g]';
    L.push(`  for (let g = 0; g < ${G}; g++) out[o0 + (r - first) * ${G} + g] = ${v};`);
  }
  L.push('}');
  return L.join('\n');
}

/** Turns a kernel's source (marginKernelSource) into its factory over a model's arrays. */
export type KernelCompiler = (src: string) => (a: TreeArrays) => MarginKernel;

const cache = new Map<string, (a: TreeArrays) => MarginKernel>();

/** Compiles with `new Function`, once per distinct source (the source is the cache key). */
const compileOnce: KernelCompiler = (src) => {
  let factory = cache.get(src);
  if (!factory) {
    factory = new Function('A', src) as (a: TreeArrays) => MarginKernel;
    cache.set(src, factory);
  }
  return factory;
};

/**
 * The JavaScript source of one kernel variant: the body of a factory `(A: TreeArrays) =>
 * MarginKernel`. It is structure only (feature, tree and group counts, slot layout, each a checked
 * integer through lit); every model value stays in A's arrays. Everything model-specific that
 * shapes the code is in it.
 */
export function marginKernelSource(d: TreesDescriptorExtra, opts: KernelOptions): string {
  const R = Number(lit(opts.interleave));
  const k = kernelShape(d);
  const S = k.S;
  // Empty for models without linear leaves: their source, hence their code, is as before.
  const linearSrc = k.hasLinear
    ? 'const lc = A.linConst, lo = A.linOffset, ln = A.linCount, lf = A.linFeature, lk = A.linCoeff;\n' +
      `${linearLeafSource(k)}\n`
    : '';
  return `
"use strict";
const tt = A.table, tg = A.group, gc = A.groupTreeCount, ns = A.nodeSlot, nt = A.nodeThr, kids = A.kids;
const nc = A.nodeCat, ncw = A.nodeCatWords, nf = A.nodeFlags, cb = A.catBits, lv = A.leafValue, bm = A.baseMargin;
${linearSrc}const sl = new Float64Array(${lit(Math.max(1, R * S))});
const acc = new Float64Array(${lit(R * Number(k.G))});
${fillSource(k)}
${k.hasCat ? catWalkSource(k) : 'function catWalk() { throw new Error("no categorical trees"); }'}
return function margins(input, first, rows, out, o0) {
  let r = first;
  const end = first + rows;
${opts.treeLockstep ? oneRowSource(k) : blockSource(k, R)}
${R > 1 ? blockSource(k, 1) : ''}
};`;
}

/**
 * Builds (or reuses) the kernel factory for this model's variant, and binds it to its arrays.
 * `compile` defaults to `new Function`; code that may not generate code at run time (a module
 * exported by `grove export`) passes factories compiled ahead of time.
 */
export function makeMarginKernel(
  d: TreesDescriptorExtra,
  arrays: TreeArrays,
  opts: KernelOptions,
  compile: KernelCompiler = compileOnce,
): MarginKernel {
  return compile(marginKernelSource(d, opts))(arrays);
}
