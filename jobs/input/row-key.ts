// Row keys (`?key=COLUMN`): the text a prediction is stored and looked up under. A key must be
// non-empty text of at most MAX_KEY_CHARS characters without NUL (PostgreSQL text cannot hold it);
// NDJSON keys may be strings or numbers (stored as their text).
import { csvField } from './csv-rows.js';

export const MAX_KEY_CHARS = 1024;

/** The key's problem, or null when it is fine. */
export function keyProblem(key: string, column: string): string | null {
  if (key.length === 0) return `empty key in column '${column}'`;
  if (key.length > MAX_KEY_CHARS)
    return `key in column '${column}' is longer than ${MAX_KEY_CHARS} characters`;
  if (key.indexOf('\u0000') !== -1) return `key in column '${column}' holds a NUL character`;
  return null;
}

/** Takes the key field out of an NDJSON object row: the key, the row without it; or a problem. */
export function takeNdjsonKey(line: string, column: string): { key: string; rest: string } | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not valid JSON';
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return `a row must be an object with the key field '${column}'`;
  const o = v as Record<string, unknown>;
  const k = Object.hasOwn(o, column) ? o[column] : undefined;
  if (typeof k === 'string' || (typeof k === 'number' && Number.isFinite(k))) {
    delete o[column];
    return { key: String(k), rest: JSON.stringify(o) };
  }
  return k === undefined || k === null
    ? `no key field '${column}'`
    : `key field '${column}' must be a string or a number`;
}

/** A key as the first column of a results CSV. */
export function keyCsv(key: string | null): string {
  return key === null ? '' : csvField(key);
}
