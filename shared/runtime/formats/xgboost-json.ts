// XGBoost models saved with `save_model("m.json")` (and `.ubj`, once decoded by ubjson.ts), versions
// 1.x to 3.x, turned into the tree IR with XGBoost's exact prediction semantics:
// - inputs rounded to float32, `x < split_condition` goes left, NaN follows `default_left`
//   (src/predictor/predict_fn.h GetNextNode);
// - margins summed in float32, starting from the base margin, trees in file order (cpu_predictor.cc);
// - `base_score` is stored in output space and turned into a margin by the objective's ProbToMargin
//   (src/learner.cc); 2.x writes it as "[5E-1]", 3.1+ may write one value per class/target;
// - categorical splits: categories in the node's set go RIGHT, others left (common/categorical.h
//   Decision); invalid categories go left from 2.0, and to the default side before (Decision<true>
//   returned dft_left in 1.6/1.7);
// - dart: each tree's output is multiplied by its `weight_drop` (gbm/gbtree.cc Dart::PredictBatch),
//   folded here into the leaf values (one float32 product, as XGBoost computes it);
// - num_parallel_tree: every tree of a forest is summed (tree_info gives each tree's output group).
// The learner fields every booster shares (objective, groups, base_score) are read by xgboost-learner.ts.

import { fileText } from '../../errors/file-text.js';
import { ModelFormatError, TruncatedModelError, UnsupportedModelError } from '../../errors/grove-error.js';
import { LIMITS } from '../limits.js';
import type { TreeEnsembleIR, TreeIR } from '../trees/tree-ir.js';
import { allocTree, checkTreeShape } from './tree-shape.js';
import {
  field,
  isObj,
  learnerBaseMargin,
  num,
  numList,
  type Obj,
  objField,
  readLearner,
} from './xgboost-learner.js';

type NumList = ArrayLike<number>;

/**
 * JSON text -> document. XGBoost writes `NaN`, `Infinity` and `-Infinity` as bare words (the split
 * condition of a categorical node is NaN), which JSON.parse rejects: outside strings they become
 * null / ±1e999 (parsed as ±Infinity), and readers here treat null in numeric arrays as NaN.
 */
export function decodeXgboostJson(text: string): unknown {
  let src = text;
  if (/NaN|Infinity/.test(text)) src = replaceBareNonFinite(text);
  try {
    return JSON.parse(src);
  } catch (err) {
    // V8's messages quote the text around the error: file text, so only through fileText.
    const msg = fileText((err as Error).message);
    if (/end of (JSON|data)|Unterminated|Unexpected end/i.test(msg) || endsInsideValue(src)) {
      throw new TruncatedModelError(`XGBoost JSON model ends early (truncated file?): ${msg}`);
    }
    throw new ModelFormatError(`not valid JSON, so not an XGBoost JSON model: ${msg}`);
  }
}

/** True when the text ends with an object, array or string still open: a cut-off file. */
function endsInsideValue(text: string): boolean {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
    } else if (c === 34) inStr = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
  }
  return inStr || depth > 0;
}

function replaceBareNonFinite(text: string): string {
  // Strings are matched whole (and kept) so a feature named "NaN" is left alone.
  return text.replace(/"(?:[^"\\]|\\.)*"|NaN|Infinity/g, (m) =>
    m === 'NaN' ? 'null' : m === 'Infinity' ? '1e999' : m,
  );
}

export { parseBaseScore } from './xgboost-learner.js';

/**
 * A tree model (gbtree or dart) -> the tree IR. gblinear documents are not tree ensembles: they go
 * to parseXgboostLinear (xgboost-gblinear.ts); loadModel picks the parser by booster name.
 */
export function parseXgboost(doc: unknown): TreeEnsembleIR {
  const h = readLearner(doc);
  const { numFeatures, numGroups, booster, boosterName } = h;
  let gbtree: Obj;
  let weightDrop: NumList | null = null;
  if (boosterName === 'gbtree') {
    gbtree = booster;
  } else if (boosterName === 'dart') {
    gbtree = objField(booster, 'gbtree', 'gradient_booster');
    weightDrop = numList(booster, 'weight_drop', 'gradient_booster');
  } else if (boosterName === 'gblinear') {
    throw new UnsupportedModelError(
      'XGBoost gblinear (linear booster) model: not a tree ensemble (parseXgboostLinear reads it)',
    );
  } else {
    throw new UnsupportedModelError(`XGBoost booster ${fileText(boosterName)} is not supported`);
  }
  const model = objField(gbtree, 'model', 'gradient_booster');
  const gparam = objField(model, 'gbtree_model_param', 'model');
  const numTrees = num(field(gparam, 'num_trees', 'gbtree_model_param'), 'num_trees');
  if (!(Number.isInteger(numTrees) && numTrees >= 0 && numTrees <= LIMITS.trees))
    throw new ModelFormatError(`XGBoost model: bad num_trees (${numTrees})`);
  const sizeLeafVector = Object.hasOwn(gparam, 'size_leaf_vector')
    ? num(gparam.size_leaf_vector, 'size_leaf_vector')
    : 0;
  if (sizeLeafVector > 1) {
    throw new UnsupportedModelError(
      'XGBoost multi-output trees (multi_strategy=multi_output_tree, vector leaves) are not supported',
    );
  }
  const treesRaw = field(model, 'trees', 'model');
  if (!Array.isArray(treesRaw)) throw new ModelFormatError('XGBoost model: model.trees is not an array');
  if (treesRaw.length !== numTrees) {
    throw new TruncatedModelError(
      `XGBoost model has ${treesRaw.length} trees but gbtree_model_param.num_trees says ${numTrees}`,
    );
  }
  const treeInfo = numList(model, 'tree_info', 'model', numTrees);
  if (weightDrop && weightDrop.length !== numTrees) {
    throw new TruncatedModelError(
      `XGBoost dart model has ${weightDrop.length} weight_drop entries for ${numTrees} trees`,
    );
  }

  const trees: TreeIR[] = new Array(numTrees);
  const treeGroup = new Int32Array(numTrees);
  const catWords = { words: 0 };
  for (let t = 0; t < numTrees; t++) {
    const g = treeInfo[t] as number;
    if (!(g >= 0 && g < numGroups))
      throw new ModelFormatError(
        `XGBoost model: tree ${t} adds to output group ${g}, but there are ${numGroups}`,
      );
    treeGroup[t] = g;
    const w = weightDrop ? (weightDrop[t] as number) : 1;
    trees[t] = parseTree(treesRaw[t], t, numFeatures, w, catWords);
  }

  const baseMargin = learnerBaseMargin(h);
  return {
    library: 'xgboost',
    objective: h.objName,
    task: h.obj.task,
    numFeatures,
    featureNames: h.featureNames,
    compare: 'lt',
    inputPrecision: 'f32',
    sumPrecision: 'f32',
    categorical: {
      inSetGoesLeft: false,
      nan: 'default',
      invalid: (h.version[0] ?? 1) >= 2 ? 'left' : 'default',
      negative: 'value',
    },
    numGroups,
    leafWidth: 1,
    trees,
    treeGroup,
    baseMargin,
    average: false,
    transform: h.obj.transform,
    sigmoidScale: 1,
    classes: h.classes,
  };
}

function parseTree(
  raw: unknown,
  t: number,
  numFeatures: number,
  weight: number,
  catWords: { words: number },
): TreeIR {
  const where = `tree ${t}`;
  if (!isObj(raw)) throw new ModelFormatError(`XGBoost model: ${where} is not an object`);
  const tparam = objField(raw, 'tree_param', where);
  const n = num(field(tparam, 'num_nodes', `${where}.tree_param`), 'num_nodes');
  if (!(Number.isInteger(n) && n > 0)) throw new ModelFormatError(`XGBoost model: ${where} has ${n} nodes`);
  const left = numList(raw, 'left_children', where, n);
  const right = numList(raw, 'right_children', where, n);
  const feat = numList(raw, 'split_indices', where, n);
  const cond = numList(raw, 'split_conditions', where, n);
  const dleft = numList(raw, 'default_left', where, n);
  const stype = Object.hasOwn(raw, 'split_type') ? numList(raw, 'split_type', where, n) : null;
  const tree = allocTree(n);
  for (let i = 0; i < n; i++) {
    const l = left[i] as number;
    const leaf = l === -1;
    tree.left[i] = leaf ? -1 : l;
    tree.right[i] = leaf ? -1 : (right[i] as number);
    tree.feature[i] = leaf ? 0 : (feat[i] as number);
    tree.defaultLeft[i] = dleft[i] ? 1 : 0;
    const c = Math.fround(cond[i] as number);
    // A leaf's value lives in split_conditions (RegTree::LoadModel); dart scales it by weight_drop.
    if (leaf) tree.leafValue[i] = weight === 1 ? c : Math.fround(c * Math.fround(weight));
    else tree.threshold[i] = Number.isNaN(c) ? 0 : c;
  }
  if (stype && stype.length > 0) {
    let anyCat = false;
    for (let i = 0; i < n; i++) if (stype[i] === 1 && tree.left[i] >= 0) anyCat = true;
    if (anyCat) readCategories(raw, tree, stype, where, catWords);
  }
  checkTreeShape(tree, numFeatures, `XGBoost ${where}`);
  readNodeStats(raw, tree, n, where);
  return tree;
}

/**
 * Covers and gains for explanations (tree-ir.ts TreeIR.cover): `sum_hessian` and `loss_changes`,
 * which XGBoost writes for every node. A file without them still predicts; it only cannot explain.
 */
function readNodeStats(raw: Obj, tree: TreeIR, n: number, where: string): void {
  const stat = (key: string): Float64Array | undefined => {
    if (!Object.hasOwn(raw, key)) return undefined;
    const v = numList(raw, key, where);
    if (v.length !== n) return undefined;
    // A plain loop: Float64Array.from with a map function goes through the iterator protocol per
    // element, which made these two arrays a tenth of a model's load time.
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.fround(v[i] as number);
    return out;
  };
  tree.cover = stat('sum_hessian');
  tree.gain = stat('loss_changes');
}

/** A node's categories as a bitset; `budgetUsed` counts the model's bitset words so far. */
function readCategories(
  raw: Obj,
  tree: TreeIR,
  stype: NumList,
  where: string,
  budgetUsed: { words: number },
): void {
  const cats = numList(raw, 'categories', where);
  const nodes = numList(raw, 'categories_nodes', where);
  const segs = numList(raw, 'categories_segments', where, nodes.length);
  const sizes = numList(raw, 'categories_sizes', where, nodes.length);
  const words: number[] = [];
  let budget = LIMITS.categoryWords - budgetUsed.words;
  // XGBoost writes each node's categories as its own segment: together they list each category
  // once, which also keeps this loop linear in the file (overlapping segments would not be).
  let listed = 0;
  for (let j = 0; j < nodes.length; j++) {
    const node = nodes[j] as number;
    const beg = segs[j] as number;
    const size = sizes[j] as number;
    if (
      !(node >= 0 && node < tree.left.length) ||
      stype[node] !== 1 ||
      beg < 0 ||
      size < 0 ||
      beg + size > cats.length ||
      (listed += size) > cats.length ||
      tree.catOffset[node]! >= 0
    ) {
      throw new ModelFormatError(`XGBoost model: ${where} has a bad categories entry for node ${node}`);
    }
    let max = -1;
    for (let k = beg; k < beg + size; k++) {
      const c = cats[k] as number;
      if (!(Number.isInteger(c) && c >= 0 && c < 16777216))
        throw new ModelFormatError(`XGBoost model: ${where} node ${node} has category ${c}`);
      if (c > max) max = c;
    }
    const nWords = max < 0 ? 0 : (max >> 5) + 1; // CatBitField::ComputeStorageSize(max_cat + 1)
    budget -= nWords;
    if (budget < 0) {
      throw new ModelFormatError(
        `XGBoost model: categorical splits need more than ${LIMITS.categoryWords} bitset words (grove's limit)`,
      );
    }
    const off = words.length;
    for (let k = 0; k < nWords; k++) words.push(0);
    for (let k = beg; k < beg + size; k++) {
      const c = cats[k] as number;
      words[off + (c >> 5)] = ((words[off + (c >> 5)] as number) | (1 << (c & 31))) >>> 0;
    }
    tree.catOffset[node] = off;
    tree.catWords[node] = nWords;
  }
  for (let i = 0; i < tree.left.length; i++) {
    if (stype[i] === 1 && tree.left[i] >= 0 && tree.catOffset[i] < 0) {
      throw new ModelFormatError(`XGBoost model: ${where} node ${i} is categorical but lists no categories`);
    }
  }
  tree.catBits = Uint32Array.from(words);
  budgetUsed.words += words.length;
}
