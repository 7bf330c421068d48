// The one rule for reading a feature value, used by every input grove takes: CSV fields (grove
// predict, profile, compare, ab-report, `:batch`), NDJSON and JSON request values (`:predict`,
// `/infer`, named rows). Documented in docs/formats.md ("Numbers and missing values"):
// - missing: an empty field, or one of pandas.read_csv's default missing-value tokens (exactly these
//   spellings), so a file pandas reads as NaN is read as missing here too;
// - infinities: inf / infinity in any case, with an optional sign, as pandas reads them;
// - numbers: decimal notation (`1`, `-2.5`, `.5`, `1e-05`); surrounding spaces are ignored;
// - anything else (`NAN`, `none`, `0x10`, `true` in a CSV) is not a number: the caller answers
//   GROVE_ERR_NOT_NUMERIC naming where it was.
// JSON adds its own types: null is missing, true/false are 1/0.
import { BadInputError } from '../../errors/grove-error.js';

/** pandas' default `na_values` (pandas._libs.parsers.STR_NA_VALUES, pandas 2.x), plus the empty field. */
export const MISSING_TOKENS: ReadonlySet<string> = new Set([
  '',
  '#N/A',
  '#N/A N/A',
  '#NA',
  '-1.#IND',
  '-1.#QNAN',
  '-NaN',
  '-nan',
  '1.#IND',
  '1.#QNAN',
  '<NA>',
  'N/A',
  'NA',
  'NULL',
  'NaN',
  'None',
  'n/a',
  'nan',
  'null',
]);

const INFINITY = /^[+-]?inf(inity)?$/i;

/** Whether a text field is a missing value (surrounding spaces ignored). */
export function isMissingText(s: string): boolean {
  return MISSING_TOKENS.has(s.trim());
}

/**
 * A text field as a feature value: the number, NaN when it is a missing value, or undefined when it
 * is neither (the caller reports where). Allocation-free for plain numbers: the hot path of `:batch`.
 */
export function textNumber(s: string): number | undefined {
  const n = +s;
  if (!Number.isNaN(n) && s.length > 0) {
    const c0 = s.charCodeAt(0);
    // `+` also reads hex/octal/binary literals ("0x1f") and blank text (" " is 0): not numbers here.
    if (c0 > 32 && s.charCodeAt(s.length - 1) > 32) {
      if (c0 !== 48 || s.length < 3) return n;
      const c1 = s.charCodeAt(1) | 32;
      if (c1 !== 120 && c1 !== 111 && c1 !== 98) return n;
      return undefined;
    }
  }
  return slowTextNumber(s);
}

function slowTextNumber(s: string): number | undefined {
  const t = s.trim();
  if (MISSING_TOKENS.has(t)) return Number.NaN;
  if (INFINITY.test(t)) return t.charCodeAt(0) === 45 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return t !== s && t.length > 0 ? textNumber(t) : undefined;
}

/** A JSON value as a feature value: numbers as they are, null missing, booleans 1/0, strings by the text rule. */
export function jsonValueNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return Number.NaN;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return textNumber(v);
  return undefined;
}

/** The one error for a value that is neither a number nor a missing value; `where` says where it was. */
export function notNumericError(v: unknown, where: string): BadInputError {
  const shown =
    typeof v === 'string'
      ? `'${v.slice(0, 40)}'`
      : Array.isArray(v)
        ? 'an array'
        : v !== null && typeof v === 'object'
          ? 'an object'
          : String(v);
  return new BadInputError(`value ${shown} at ${where} is not a number`, 'GROVE_ERR_NOT_NUMERIC');
}

/**
 * `jsonValueNumber`, throwing GROVE_ERR_NOT_NUMERIC for anything else; `where` is a row number
 * (said as "row N") or a description of the place (e.g. "inputs[0].data[5]").
 */
export function featureNumber(v: unknown, where: number | string): number {
  if (typeof v === 'number') return v;
  const n = jsonValueNumber(v);
  if (n === undefined) throw notNumericError(v, typeof where === 'number' ? `row ${where}` : where);
  return n;
}
