// Readers for the fields of a container's JSON descriptor (container.ts). A descriptor comes from
// a file (a .grove) or from another process (the load host): every field is checked for type,
// range and consistency before a model is built over it, and models read the checked copies only.
// In particular the code generators (trees/kernels.ts) only ever see integers that passed here.
// Failures are GROVE_ERR_MODEL_FORMAT and name the field, never its content.
import { ModelFormatError } from '../errors/grove-error.js';
import { LIMITS } from './limits.js';
import type { ModelMeta, Platform, Task } from './model.js';

export type Obj = Record<string, unknown>;

function bad(what: string, why: string): never {
  throw new ModelFormatError(`grove container: ${what} ${why}`);
}

export function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** An object field (own property). */
export function objectField(o: Obj, key: string, what = key): Obj {
  const v = Object.hasOwn(o, key) ? o[key] : undefined;
  if (!isPlainObject(v)) bad(what, 'is not an object');
  return v;
}

/** An integer field in [min, max]: the only kind of number generated code may contain. */
export function intField(o: Obj, key: string, min: number, max: number, what = key): number {
  const v = Object.hasOwn(o, key) ? o[key] : undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    bad(what, `must be an integer from ${min} to ${max}`);
  return v;
}

/** A finite number field. */
export function numberField(o: Obj, key: string, what = key): number {
  const v = Object.hasOwn(o, key) ? o[key] : undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(what, 'must be a finite number');
  return v;
}

/** A boolean field; `absent` is its value when the field is missing (older containers). */
export function boolField(o: Obj, key: string, absent?: boolean, what = key): boolean {
  if (!Object.hasOwn(o, key) && absent !== undefined) return absent;
  const v = o[key];
  if (typeof v !== 'boolean') bad(what, 'must be true or false');
  return v;
}

/** A field holding one of `values`; `absent` is its value when the field is missing. */
export function enumField<T extends string>(
  o: Obj,
  key: string,
  values: readonly T[],
  absent?: T,
  what = key,
): T {
  if (!Object.hasOwn(o, key) && absent !== undefined) return absent;
  const v = o[key];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
    bad(what, `must be one of ${values.join(', ')}`);
  return v as T;
}

/** A string field of at most LIMITS.nameLength characters. */
export function stringField(o: Obj, key: string, what = key): string {
  const v = Object.hasOwn(o, key) ? o[key] : undefined;
  if (typeof v !== 'string' || v.length > LIMITS.nameLength)
    bad(what, `must be a string of at most ${LIMITS.nameLength} characters`);
  return v;
}

function stringList(o: Obj, key: string, length: number): string[] {
  const v = Object.hasOwn(o, key) ? o[key] : undefined;
  if (!Array.isArray(v) || v.length !== length) bad(`meta.${key}`, `must list ${length} names`);
  for (const s of v)
    if (typeof s !== 'string' || s.length > LIMITS.nameLength) bad(`meta.${key}`, 'must hold strings');
  return [...(v as string[])];
}

const PLATFORMS: readonly Platform[] = [
  'xgboost_json',
  'xgboost_ubj',
  'lightgbm_text',
  'sklearn_pickle',
  'sklearn_joblib',
  'grove',
];
const LIBRARIES = ['xgboost', 'lightgbm', 'sklearn'] as const;
const TASKS: readonly Task[] = ['binary', 'multiclass', 'regression', 'ranking'];

/**
 * The checked ModelMeta of a descriptor whose model reads `numFeatures` inputs and writes
 * `outputs` (predict) and `rawOutputs` (raw) columns, as its kind computed them.
 */
export function checkMeta(v: unknown, numFeatures: number, outputs: number, rawOutputs: number): ModelMeta {
  if (!isPlainObject(v)) bad('meta', 'is not an object');
  const sparse = boolField(v, 'sparse', undefined, 'meta.sparse');
  const n = intField(v, 'numFeatures', 0, LIMITS.features, 'meta.numFeatures');
  if (n !== numFeatures) bad('meta.numFeatures', `is ${n}; the model reads ${numFeatures}`);
  const used = Object.hasOwn(v, 'usedFeatures') ? v.usedFeatures : undefined;
  if (!Array.isArray(used) || used.length > Math.max(n, 0)) bad('meta.usedFeatures', 'is not a feature list');
  for (const f of used)
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 0 || f >= n)
      bad('meta.usedFeatures', 'is out of range');
  const classes = Object.hasOwn(v, 'classes') ? v.classes : undefined;
  if (classes !== null && !Array.isArray(classes)) bad('meta.classes', 'is not a list or null');
  if (classes !== null) {
    if (classes.length > LIMITS.outputs) bad('meta.classes', 'lists too many classes');
    for (const c of classes) {
      const ok = typeof c === 'number' || (typeof c === 'string' && c.length <= LIMITS.nameLength);
      if (!ok) bad('meta.classes', 'must hold numbers and strings');
    }
  }
  return {
    platform: enumField(v, 'platform', PLATFORMS, undefined, 'meta.platform'),
    sourcePlatform: enumField(v, 'sourcePlatform', PLATFORMS, undefined, 'meta.sourcePlatform'),
    library: enumField(v, 'library', LIBRARIES, undefined, 'meta.library'),
    objective: stringField(v, 'objective', 'meta.objective'),
    task: enumField(v, 'task', TASKS, undefined, 'meta.task'),
    numFeatures: n,
    featureNames: stringList(v, 'featureNames', n),
    outputNames: stringList(v, 'outputNames', outputs),
    rawOutputNames: stringList(v, 'rawOutputNames', rawOutputs),
    classes: classes === null ? null : [...(classes as (string | number)[])],
    sparse,
    usedFeatures: [...(used as number[])],
  };
}
