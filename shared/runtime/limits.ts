// What a model file may declare. Every decoder checks a declared size against the bytes actually
// present AND against these limits before it allocates, so a file of a few bytes can never ask for
// gigabytes or for billions of loop iterations (docs/formats.md "Limits"). They sit far above any
// model the libraries' own tools write and serve: a worker holds dense rows of `features` doubles
// and answers `outputs` columns per row.
import { ModelFormatError } from '../errors/grove-error.js';

export const LIMITS = {
  /** Dense input width (num_feature, max_feature_idx + 1, n_features_in_). */
  features: 1 << 20,
  /** Margin and output columns: classes, targets, trees per iteration. */
  outputs: 1 << 16,
  /** Trees in one model. */
  trees: 1 << 22,
  /** Nodes of all the trees of a model together. */
  treeNodes: 1 << 25,
  /** Leaf values of all the trees together (nodes x values per leaf: a forest's class columns). */
  leafValues: 1 << 27,
  /** Elements of one numpy array (also bounded by its bytes). */
  arrayElements: 1 << 28,
  /** Words of categorical bitsets in one model (a set of category c takes c / 32 + 1 words). */
  categoryWords: 1 << 22,
  /** Nesting of containers in a JSON/UBJSON document or of pickled containers and streams. */
  nesting: 256,
  /** Digits (text) or bytes (binary) of one pickled integer. */
  integerBytes: 4096,
  /** A feature, class or output name, an objective, in UTF-16 code units. */
  nameLength: 1 << 16,
  /** A model file, and a joblib file once inflated. */
  fileBytes: 2 ** 31 - 1,
  /** The JSON descriptor of a grove container. */
  descriptorBytes: 1 << 26,
} as const;

/**
 * A count the file declares, as a non-negative integer no larger than `max`, or a
 * ModelFormatError naming `what` (a description of the field, never text from the file).
 */
export function declaredCount(v: unknown, max: number, what: string): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new ModelFormatError(
      `${what} must be a non-negative integer${typeof n === 'number' ? `, not ${n}` : ''}`,
    );
  }
  if (n > max) throw new ModelFormatError(`${what} is ${n}; grove's limit is ${max}`);
  return n;
}

/**
 * Counts the nodes and leaf values a model's trees take as a parser builds them, and refuses the
 * model once they pass LIMITS. A pickle can reference one big tree from many places (its memo):
 * the file stays small while every reference would become a tree of its own.
 */
export class TreeBudget {
  private nodes = 0;
  private values = 0;

  take(nodes: number, valuesPerNode: number): void {
    this.nodes += nodes;
    this.values += nodes * valuesPerNode;
    if (this.nodes > LIMITS.treeNodes)
      throw new ModelFormatError(
        `the model's trees hold more than ${LIMITS.treeNodes} nodes (grove's limit)`,
      );
    if (this.values > LIMITS.leafValues)
      throw new ModelFormatError(
        `the model's trees hold more than ${LIMITS.leafValues} leaf values (grove's limit)`,
      );
  }
}
