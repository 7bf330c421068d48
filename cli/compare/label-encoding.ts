// Turns a label column's strings into what the metrics need: 0/1 for binary classifiers, a class
// column for multiclass, numbers for regression. Class labels are matched to the model's own
// `classes` (e.g. "yes"/"no" for a scikit-learn classifier) before being read as numbers.
import { BadInputError } from '../../shared/errors/grove-error.js';
import { isMissingText, textNumber } from '../../shared/runtime/values/feature-value.js';

export type TaskKind = 'binary' | 'multiclass' | 'regression';

export interface EncodedLabels {
  /** Rows with a usable label (indices into the data). */
  rows: Int32Array;
  binary: Uint8Array | null;
  classIndex: Int32Array | null;
  values: Float64Array | null;
}

export function encodeLabels(
  raw: readonly string[],
  task: TaskKind,
  classes: readonly (string | number)[] | null,
  numClasses: number,
): EncodedLabels {
  const keep: number[] = [];
  const codes: number[] = [];
  const byName = new Map<string, number>((classes ?? []).map((c, i) => [String(c), i]));
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i]!.trim();
    if (isMissingText(s)) continue; // an unlabelled row (docs/formats.md: missing values)
    let code: number;
    if (task === 'regression') {
      code = textNumber(s) ?? Number.NaN;
      if (!Number.isFinite(code)) throw new BadInputError(`label '${s}' (row ${i + 1}) is not a number`);
    } else {
      const named = byName.get(s);
      if (named !== undefined) code = named;
      else {
        const v = Number(s);
        if (task === 'binary' && (s === 'true' || s === 'false')) code = s === 'true' ? 1 : 0;
        else if (!Number.isInteger(v) || v < 0 || v >= Math.max(2, numClasses)) {
          throw new BadInputError(`label '${s}' (row ${i + 1}) is not one of the model's classes`);
        } else code = v;
      }
    }
    keep.push(i);
    codes.push(code);
  }
  return {
    rows: Int32Array.from(keep),
    binary: task === 'binary' ? Uint8Array.from(codes) : null,
    classIndex: task === 'multiclass' ? Int32Array.from(codes) : null,
    values: task === 'regression' ? Float64Array.from(codes) : null,
  };
}
