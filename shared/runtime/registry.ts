// Maps a container's `kind` to the code that rebuilds a Model from it. Each model family registers
// itself (trees: shared/runtime/trees/, linear and pipelines: shared/runtime/sklearn/); shared/runtime/load.ts
// imports them all so `modelFromBuffer` works in any thread.
import { fileText } from '../errors/file-text.js';
import { ModelFormatError } from '../errors/grove-error.js';
import type { Container } from './container.js';
import type { Model } from './model.js';

export type ModelFactory = (container: Container) => Model;

const factories = new Map<string, ModelFactory>();

export function registerModelKind(kind: string, factory: ModelFactory): void {
  factories.set(kind, factory);
}

/** Rebuilds a Model from its SharedArrayBuffer without copying the arrays. */
export function modelFromContainer(container: Container): Model {
  const factory = factories.get(container.descriptor.kind);
  if (!factory)
    throw new ModelFormatError(
      `no model kind ${fileText(container.descriptor.kind)} is registered in this build`,
    );
  return factory(container);
}
