// Named rows (`{"age": 31, "plan": 2}`) -> dense row-major Float64Array for models whose inputs
// are columns (docs/api.md: a missing named feature is a missing value, not an error). Keys are
// read with Object.keys and looked up in a Map, so `__proto__` and friends are plain names. Values
// follow the one feature-value rule (docs/formats.md).
import { BadInputError, UnknownFeatureError } from '../../errors/grove-error.js';
import { jsonValueNumber, notNumericError } from '../values/feature-value.js';

export class NamedRowMapper {
  private readonly index = new Map<string, number>();
  constructor(featureNames: readonly string[]) {
    featureNames.forEach((n, i) => {
      if (!this.index.has(n)) this.index.set(n, i);
    });
  }

  /** Fills `dense` (rows * width, reused when large enough) and returns it. */
  toDense(
    rows: ReadonlyArray<Readonly<Record<string, unknown>>>,
    width: number,
    dense?: Float64Array,
  ): Float64Array {
    const n = rows.length;
    const out = dense && dense.length >= n * width ? dense : new Float64Array(n * width);
    out.fill(Number.NaN, 0, n * width);
    let unknown: Set<string> | null = null;
    for (let r = 0; r < n; r++) {
      const row = rows[r];
      if (row === null || typeof row !== 'object' || Array.isArray(row)) {
        throw new BadInputError(`row ${r} is not an object of feature name -> value`);
      }
      for (const key of Object.keys(row)) {
        const col = this.index.get(key);
        if (col === undefined) {
          (unknown ??= new Set()).add(key);
          continue;
        }
        out[r * width + col] = toNumber((row as Record<string, unknown>)[key], key, r);
      }
    }
    if (unknown) throw new UnknownFeatureError([...unknown], this.index.keys());
    return out;
  }
}

/** A named row's value by the feature-value rule; GROVE_ERR_NOT_NUMERIC names the row and feature. */
export function toNumber(v: unknown, name: string, row: number): number {
  const x = jsonValueNumber(v);
  if (x === undefined) throw notNumericError(v, `row ${row}, feature '${name}'`);
  return x;
}
