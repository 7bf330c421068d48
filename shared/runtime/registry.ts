// Maps a container's `kind` to the code that rebuilds a Model from it. Each model family registers
// itself (trees: shared/runtime/trees/, linear and pipelines: shared/runtime/sklearn/); shared/runtime/load.ts
// imports them all so `modelFromBuffer` works in any thread.
import { fileText } from '../errors/file-text.js';
import { ModelFormatError } from '../errors/grove-error.js';
import type { Container } from './container.js';
import type { Model } from './model.js';

export type ModelFactory = (container: Container) => Model;
/** Every check a kind's factory makes before it reads the container, without building anything. */
export type ContainerCheck = (container: Container) => void;

const factories = new Map<string, ModelFactory>();
const checks = new Map<string, ContainerCheck>();

export function registerModelKind(kind: string, factory: ModelFactory, check?: ContainerCheck): void {
  factories.set(kind, factory);
  if (check) checks.set(kind, check);
}

/** Checks a container as its kind's factory would, without compiling kernels (a load host's work). */
export function checkContainer(container: Container): void {
  const check = checks.get(container.descriptor.kind);
  if (check) check(container);
  else modelFromContainer(container);
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
