// One feature value from JSON, as every protocol takes it: a number; null, "NaN" or "nan" for a
// missing value (JSON has no NaN; KServe and TF Serving clients send null or the string);
// "Infinity"/"-Infinity" as strings; booleans as 1/0. Anything else is a 400 that says where.
import { BadInputError } from '../../shared/errors/grove-error.js';

export function numericValue(v: unknown, where: number | string): number {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return Number.NaN;
  return slowNumeric(v, where);
}

function slowNumeric(v: unknown, where: number | string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    switch (v.trim().toLowerCase()) {
      case 'nan':
      case '':
        return Number.NaN;
      case 'inf':
      case 'infinity':
      case '+inf':
      case '+infinity':
        return Number.POSITIVE_INFINITY;
      case '-inf':
      case '-infinity':
        return Number.NEGATIVE_INFINITY;
    }
    const n = Number(v);
    if (!Number.isNaN(n)) return n;
  }
  const shown = typeof v === 'string' ? `'${v.slice(0, 40)}'` : Array.isArray(v) ? 'an array' : typeof v;
  throw new BadInputError(
    `value ${shown} at ${typeof where === 'number' ? `row ${where}` : where} is not a number`,
    'GROVE_ERR_NOT_NUMERIC',
  );
}
