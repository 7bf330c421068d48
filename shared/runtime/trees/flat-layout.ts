// THE FLAT LAYOUT of a tree ensemble: how compile.ts lays a TreeEnsembleIR out in one
// SharedArrayBuffer (a container of kind 'trees', shared/runtime/container.ts) so any thread walks
// the trees without copying. The JavaScript kernels (kernels.ts) read these sections directly; the
// WebAssembly kernel (wasm/) derives its packed node copy from them once per thread at load time,
// so this layout stays the single source of truth.
//
// ## Input slots ("dual row")
// Every node decides with ONE comparison, `goRight = slot >= thr`, with no per-node NaN test.
// A dense row of F features is first expanded into a slot row of `slotGroups.length * F` doubles;
// group g occupies slots [g*F, (g+1)*F). Only the groups some node needs are present
// (descriptor `slotGroups`, in this order of SLOT_* ids); node_slot holds the final slot index.
//   SLOT_NAN_LEFT   x, NaN -> -Inf                     (missing goes left:  -Inf >= t is false)
//   SLOT_NAN_RIGHT  x, NaN -> +Inf                     (missing goes right: +Inf >= t is true)
//   SLOT_NONE       x, NaN -> 0                        (LightGBM MissingType::None)
//   SLOT_ZERO_LEFT  NaN or |x| <= 1e-35f -> -Inf       (LightGBM MissingType::Zero, default left)
//   SLOT_ZERO_RIGHT NaN or |x| <= 1e-35f -> +Inf       (... default right)
//   SLOT_RAW        x unchanged (NaN stays NaN)        (categorical nodes)
// When the model's inputPrecision is 'f32' every slot holds Math.fround(x) (XGBoost and
// scikit-learn trees cast inputs to float32 before comparing). ±Infinity inputs are numbers.
//
// ## Thresholds: one comparison for `<` and `<=`
// node_thr holds t' such that "goes right" == (slot >= t') exactly:
//   compare 'lt', f64 inputs: t' = t                    (x < t left  <=> !(x >= t))
//   compare 'le', f64 inputs: t' = nextUp64(t)          (x <= t left <=> !(x >= nextUp(t)))
//   compare 'lt', f32 inputs: t' = up32(t)              (smallest float32 >= t)
//   compare 'le', f32 inputs: t' = nextUp32(down32(t))  (x <= t <=> x <= largest float32 <= t)
// With f32 inputs t' is a float32 value and node_thr is a Float32Array (half the cache), else a
// Float64Array (LightGBM: double thresholds on double inputs). Comparing the float32 threshold,
// widened to double, with a float32-valued slot is the float32 comparison, bit for bit.
// A NaN threshold never sends right: padding nodes and generic leaves use it.
//
// ## Trees: tree_table (Int32Array, 4 per tree, in the model's tree order)
//   [kind, depth, nodeBase, leafBase]; tree_group (Int32Array) = margin column per tree.
//   kind TREE_HEAP (0): complete binary tree padded to its OWN depth d (<= MAX_HEAP_DEPTH). Internal
//     node i (0 <= i < 2^d - 1) lives at node index nodeBase + i; walk exactly d steps
//     `i = 2*i + 1 + (slot >= thr)`; the leaf is leaf_value[(leafBase + i - (2^d - 1)) * leafWidth].
//     A leaf above depth d becomes padding nodes with thr = NaN (always left) and the leaf copied to
//     every bottom slot below it. d = 0 is a single leaf at leafBase.
//   kind TREE_GENERIC (1): deep or lopsided trees. Nodes (internal AND leaves) at nodeBase + j,
//     j = 0 the root, pre-order. Children in node_kids (Int32Array, 2 per node, absolute node
//     indices): next = node_kids[2n + (slot >= thr)]. A leaf points to itself twice with thr = NaN,
//     so a walk of exactly `depth` steps needs no leaf test. Leaf value at
//     leaf_value[(leafBase + n - nodeBase) * leafWidth].
//   kind TREE_CATEGORICAL (2): as TREE_GENERIC, but some nodes are categorical: node_cat[n] >= 0 is
//     the word offset of the node's bitset in cat_bits (node_cat_words[n] words; bit c of word c>>5
//     = category c in the set), node_flags[n] bit 0 = default left. The slot is SLOT_RAW. Where the
//     set, NaN and invalid categories go follows descriptor `categorical` (tree-ir.ts). The JS walk
//     tests for leaves (node_kids[2n] === n); the WebAssembly image repacks these trees so every
//     node decides branch-free and SLOT_RAW slots hold i32 category codes (wasm/categorical-image.ts).
//
// ## Other sections
//   leaf_value  Float64Array  leaf values (leafWidth per leaf; float32 values are exact in it)
//   base_margin Float64Array  numGroups values added to margins (tree-ir.ts: `average` divides the
//                             tree sum by group_tree_count first)
//   group_tree_count Int32Array trees per margin column
// Descriptor scalars: numTrees, numGroups, leafWidth, numFeatures, slotGroups, thresholdType,
// inputPrecision, sumPrecision, average, transform, sigmoidScale, categorical, hasKids, hasCat,
// hasLinear (absent = false: containers written before linear leaves existed read unchanged).
//
// ## Linear leaves (descriptor hasLinear; LightGBM linear_tree, tree-ir.ts LinearLeaves)
// Present only when hasLinear (leafWidth is then 1); indexed by LEAF SLOT s, the same index as
// leaf_value, so a padded heap leaf copied to several bottom slots has each copy point at the one
// coefficient range:
//   linear_const   Float64Array  per leaf slot: the leaf's constant (plain trees: leaf_value)
//   linear_offset  Int32Array    per leaf slot: first term in linear_feature / linear_coeff
//   linear_count   Int32Array    per leaf slot: number of terms (0 for plain trees and padding)
//   linear_feature Int32Array    per term: input column (0 <= f < numFeatures)
//   linear_coeff   Float64Array  per term: coefficient
// A tree's output at slot s, with x the row's input values (not slots; fround'ed when inputPrecision
// is 'f32'): acc = linear_const[s]; for each term j in order, if x[f] is NaN the output is
// leaf_value[s] instead, else acc += coeff[j] * (|x[f]| <= 1e-35f ? 0 : x[f]) (LightGBM
// Tree::Predict, tree.h; the zero rule is its dense-row input path, tree-ir.ts). That output is
// what the summation below adds in place of leaf_value[s]. The WebAssembly kernel does not cover
// these models (wasm/wasm-kernel.ts wasmUnsupported); the JavaScript kernels do.
//
// ## Explanation sections (descriptor `explain`; absent in containers without node statistics)
// The trees as their parser gave them (TreeIR node numbering, root 0), for TreeSHAP and feature
// importance (shared/runtime/explain/); prediction never reads them. N = all trees' IR nodes.
//   explain_tree_base Int32Array   T + 1: tree t's nodes are [base[t], base[t + 1])
//   explain_kids      Int32Array   2N: tree-local left and right child, -1 at leaves
//   explain_ref       Int32Array   N: inner node -> its flat node (node_slot, node_thr, node_cat
//                                  decide it exactly as the walk does); leaf -> its leaf slot
//                                  (leaf_value, linear_*); a padded heap leaf names one copy
//   explain_cover     Float64Array N: training weight reaching the node (explain.cover)
//   explain_gain      Float64Array N: split gain at inner nodes, 0 at leaves (explain.gain)
// A tree whose parser gave no covers (or gains) leaves the whole model without that section.
//
// ## Summation
// sumPrecision 'f32' (XGBoost): acc = fround(base); acc = fround(acc + leaf) in tree order.
// 'f64': the same in doubles. With `average`: acc = sum of trees from 0, / count, + base.

export const SLOT_NAN_LEFT = 0;
export const SLOT_NAN_RIGHT = 1;
export const SLOT_NONE = 2;
export const SLOT_ZERO_LEFT = 3;
export const SLOT_ZERO_RIGHT = 4;
export const SLOT_RAW = 5;

export const TREE_HEAP = 0;
export const TREE_GENERIC = 1;
export const TREE_CATEGORICAL = 2;

/** Trees deeper than this always take the generic path (2^12 padded nodes is already 4K). */
export const MAX_HEAP_DEPTH = 12;

/** LightGBM's kZeroThreshold is the float 1e-35f, compared as a double. */
export const ZERO_THRESHOLD = Math.fround(1e-35);

export const TREE_TABLE_STRIDE = 4;

import type { CategoricalRule, TransformName } from './tree-ir.js';

/** Kind-specific descriptor fields of a 'trees' container. */
export interface TreesDescriptorExtra {
  numTrees: number;
  numGroups: number;
  leafWidth: number;
  numFeatures: number;
  slotGroups: number[];
  thresholdType: 'f32' | 'f64';
  inputPrecision: 'f32' | 'f64';
  sumPrecision: 'f32' | 'f64';
  average: boolean;
  /** With `average`: false when raw margins are the plain tree sums (LightGBM), tree-ir.ts. */
  averageRaw: boolean;
  transform: TransformName;
  sigmoidScale: number;
  categorical: CategoricalRule;
  hasKids: boolean;
  hasCat: boolean;
  /** Linear leaves present (sections linear_*); absent in containers that predate them. */
  hasLinear?: boolean;
  /** Which explanation sections are present (see "Explanation sections"); absent = none. */
  explain?: { cover: boolean; gain: boolean };
  /** Largest tree depth (walk steps) in the model. */
  maxDepth: number;
}
