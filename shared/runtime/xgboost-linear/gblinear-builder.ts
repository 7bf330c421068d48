// A gblinear IR (shared/runtime/formats/xgboost-gblinear.ts) -> the 'xgboost-linear' container and its Model:
// the weights and intercept go into sections, the metadata says what the tree models of the same
// objective say (output columns, classes: transforms.ts), and the features with a non-zero weight are the used ones.
import { ModelFormatError } from '../../errors/grove-error.js';
import { Container, ContainerBuilder } from '../container.js';
import type { Model, ModelMeta, Platform } from '../model.js';
import { featureNamesOr, outputColumnNames } from '../trees/transforms.js';
import { GblinearModel } from './gblinear-model.js';
import { type GblinearDescriptor, type GblinearIR, XGB_LINEAR_KIND } from './gblinear-spec.js';

function usedFeatures(w: Float32Array, F: number, G: number): number[] {
  const used: number[] = [];
  for (let f = 0; f < F; f++) {
    for (let g = 0; g < G; g++) {
      if (w[f * G + g] !== 0) {
        used.push(f);
        break;
      }
    }
  }
  return used;
}

export function buildGblinearModel(ir: GblinearIR, platform: Platform): Model {
  const F = ir.numFeatures;
  const G = ir.numGroups;
  if (!(Number.isInteger(F) && F >= 0 && Number.isInteger(G) && G >= 1))
    throw new ModelFormatError(`gblinear model: bad shape (${F} features, ${G} groups)`);
  if (ir.weights.length !== (F + 1) * G)
    throw new ModelFormatError(
      `gblinear model: ${ir.weights.length} weights for ${F} features and ${G} groups`,
    );
  if (ir.baseMargin.length !== G)
    throw new ModelFormatError(
      `gblinear model: base margin has ${ir.baseMargin.length} values for ${G} groups`,
    );
  const names = outputColumnNames(ir.transform, G, ir.classes);
  const meta: ModelMeta = {
    platform,
    sourcePlatform: platform,
    library: 'xgboost',
    objective: ir.objective,
    task: ir.task,
    numFeatures: F,
    featureNames: featureNamesOr(ir.featureNames, F),
    outputNames: names.out,
    rawOutputNames: names.raw,
    classes: ir.classes ? [...ir.classes] : null,
    sparse: false,
    usedFeatures: usedFeatures(ir.weights, F, G),
  };
  const gblinear: GblinearDescriptor = { numFeatures: F, numGroups: G, transform: ir.transform };
  const sab = new ContainerBuilder()
    .add('weights', ir.weights)
    .add('base_margin', Float32Array.from(ir.baseMargin))
    .build({ kind: XGB_LINEAR_KIND, meta, gblinear });
  return new GblinearModel(new Container(sab));
}
