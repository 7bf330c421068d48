// Compiles a TreeEnsembleIR (from any tree parser: XGBoost, LightGBM, scikit-learn) into grove's
// flat layout in one SharedArrayBuffer (flat-layout.ts) and returns the Model over it.
import { ModelFormatError } from '../../errors/grove-error.js';
import { Container } from '../container.js';
import { declaredCount, LIMITS, TreeBudget } from '../limits.js';
import type { Model, ModelMeta, Platform } from '../model.js';
import { buildTreeLayout } from './layout-builder.js';
import { featureNamesOr, outputColumnNames } from './transforms.js';
import type { TreeEnsembleIR } from './tree-ir.js';
import { TREES_KIND, TreeModel } from './tree-model.js';

function validate(ir: TreeEnsembleIR): void {
  declaredCount(ir.numFeatures, LIMITS.features, 'the number of features');
  declaredCount(ir.numGroups, LIMITS.outputs, 'the number of margin columns');
  declaredCount(ir.leafWidth, LIMITS.outputs, 'the leaf width');
  declaredCount(ir.trees.length, LIMITS.trees, 'the number of trees');
  if (!(ir.numGroups >= 1) || !(ir.leafWidth >= 1)) {
    throw new ModelFormatError('tree ensemble has a bad shape (features, groups or leaf width)');
  }
  const budget = new TreeBudget();
  for (const t of ir.trees) budget.take(t.left.length, ir.leafWidth);
  if (ir.leafWidth > 1 && ir.leafWidth !== ir.numGroups) {
    throw new ModelFormatError(
      `leaf width ${ir.leafWidth} must be 1 or the number of margin columns (${ir.numGroups})`,
    );
  }
  if (ir.baseMargin.length !== ir.numGroups) {
    throw new ModelFormatError(
      `base margin has ${ir.baseMargin.length} values for ${ir.numGroups} margin columns`,
    );
  }
  if (ir.treeGroup.length < ir.trees.length)
    throw new ModelFormatError('tree ensemble lacks a margin column per tree');
}

export function compileTreeEnsemble(ir: TreeEnsembleIR, platform: Platform): Model {
  return new TreeModel(new Container(treeEnsembleBuffer(ir, platform)));
}

/** The flat layout of `ir` in its SharedArrayBuffer, without building kernels over it. */
export function treeEnsembleBuffer(ir: TreeEnsembleIR, platform: Platform): SharedArrayBuffer {
  validate(ir);
  const layout = buildTreeLayout(ir);
  const names = outputColumnNames(ir.transform, ir.numGroups, ir.classes);
  const F = ir.numFeatures;
  const meta: ModelMeta = {
    platform,
    sourcePlatform: platform,
    library: ir.library,
    objective: ir.objective,
    task: ir.task,
    numFeatures: F,
    featureNames: featureNamesOr(ir.featureNames, F),
    outputNames: names.out,
    rawOutputNames: names.raw,
    classes: ir.classes ? [...ir.classes] : null,
    sparse: false,
    usedFeatures: layout.usedFeatures,
  };
  return layout.builder.build({ kind: TREES_KIND, meta, ...layout.extra });
}
