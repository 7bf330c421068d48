// How Python values look once unpickled. Plain data maps onto JS: None -> null, bool -> boolean,
// int -> number (bigint beyond 2^53), float -> number, str -> string, bytes/bytearray ->
// Uint8Array, list -> array, tuple -> frozen array, dict -> PyDict (a Map, so keys such as
// `__proto__` are plain data), set -> Set. Instances of allowlisted classes are PyObject: their
// constructor arguments and BUILD state, never code.
import { ModelFormatError } from '../../../errors/grove-error.js';

export type PyDict = Map<unknown, unknown>;

/** A reference to an allowlisted global (module + qualified name), as GLOBAL/STACK_GLOBAL push it. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get fullName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of an allowlisted class: `cls(*args)` then `__setstate__(state)` / `__dict__.update`. */
export class PyObject {
  /** Attribute dict after BUILD (the usual `__dict__` state), empty if none. */
  readonly dict: PyDict = new Map();
  /** Non-dict BUILD state (Cython classes such as sklearn's Tree give a dict, others a tuple). */
  state: unknown = undefined;
  constructor(
    readonly cls: PyGlobal,
    readonly args: readonly unknown[],
  ) {}
  get className(): string {
    return this.cls.fullName;
  }
  /** Short class name, e.g. 'RandomForestClassifier'. */
  get shortName(): string {
    return this.cls.name;
  }
}

export const tuple = (items: unknown[]): readonly unknown[] => Object.freeze(items);

export function isDict(v: unknown): v is PyDict {
  return v instanceof Map;
}

/** Attribute of a PyObject (its dict state), or `undefined`. */
export function attr(obj: PyObject, name: string): unknown {
  return obj.dict.get(name);
}

/** Attribute that must exist. */
export function need(obj: PyObject, name: string): unknown {
  if (!obj.dict.has(name)) {
    throw new ModelFormatError(
      `${obj.shortName} has no attribute '${name}' (not fitted, or an unsupported scikit-learn layout)`,
    );
  }
  return obj.dict.get(name);
}

/** First attribute present among `names` (renamed attributes across scikit-learn versions). */
export function firstAttr(obj: PyObject, ...names: string[]): unknown {
  for (const n of names) if (obj.dict.has(n)) return obj.dict.get(n);
  return undefined;
}

export function asNumber(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new ModelFormatError(`${what} should be a number, got ${describe(v)}`);
}

export function asString(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  throw new ModelFormatError(`${what} should be a string, got ${describe(v)}`);
}

export function asArray(v: unknown, what: string): readonly unknown[] {
  if (Array.isArray(v)) return v;
  throw new ModelFormatError(`${what} should be a list or tuple, got ${describe(v)}`);
}

export function asObject(v: unknown, what: string): PyObject {
  if (v instanceof PyObject) return v;
  throw new ModelFormatError(`${what} should be an object, got ${describe(v)}`);
}

/** A short description of a value for error messages (never its whole content). */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  if (v instanceof PyObject) return `a ${v.className}`;
  if (v instanceof PyGlobal) return `the global ${v.fullName}`;
  if (Array.isArray(v)) return `a sequence of ${v.length}`;
  if (v instanceof Map) return 'a dict';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}
