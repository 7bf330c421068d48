// What the pickle machine (unpickler.ts) does when a pickle makes or fills an object: NEWOBJ /
// OBJ / INST instantiate only allowlisted classes (allowlist.ts) as inert PyObjects, and BUILD
// applies state as data (numpy arrays and dtypes decode theirs, numpy-array.ts). joblib files
// interleave raw array bytes with the pickle stream after each NumpyArrayWrapper's BUILD
// (joblib/numpy_pickle.py `NumpyArrayWrapper.read_array`); they are read here, in place, the way
// joblib's NumpyUnpickler does.
import { ModelFormatError, UnsafePickleError, UnsupportedModelError } from '../../../errors/grove-error.js';
import { LIMITS } from '../../limits.js';
import { callGlobal, isAllowedClass } from './allowlist.js';
import { arrayShape, DType, NdArray } from './numpy-array.js';
import type { PickleBytes } from './pickle-bytes.js';
import { describe, isDict, PyGlobal, PyObject } from './py-values.js';

/** What BUILD needs from the machine that runs it. */
export interface BuildContext {
  bytes: PickleBytes;
  /** Reading joblib's array bytes is allowed (a joblib.dump file). */
  joblib: boolean;
  /** Streams nested in this one (joblib object arrays), this one included. */
  depth: number;
  /** Unpickles the nested stream at the cursor (joblib object arrays are `pickle.load` again). */
  loadNested(): unknown;
}

/** `cls(*args)` for NEWOBJ / NEWOBJ_EX / OBJ / INST: only a class on the allowlist. */
export function newObject(cls: unknown, args: readonly unknown[]): unknown {
  if (!isAllowedClass(cls))
    throw new UnsafePickleError(cls instanceof PyGlobal ? cls.fullName : `instantiation of ${describe(cls)}`);
  return callGlobal(cls, args);
}

/**
 * BUILD: applies `state` to `obj`; returns what replaces `obj` on the stack (the array a joblib
 * NumpyArrayWrapper stands for, otherwise `obj` itself).
 */
export function build(state: unknown, obj: unknown, ctx: BuildContext): unknown {
  if (obj instanceof NdArray || obj instanceof DType) {
    obj.setState(state);
    return obj;
  }
  if (!(obj instanceof PyObject)) throw new ModelFormatError(`pickle BUILD on ${describe(obj)}`);
  // `obj.__setstate__(state)` or `obj.__dict__.update(state)`; (dict, slots) pairs merge both.
  const parts =
    Array.isArray(state) && state.length === 2 && (isDict(state[0]) || state[0] === null) && isDict(state[1])
      ? state
      : [state];
  for (const p of parts) {
    if (isDict(p)) for (const [k, v] of p) obj.dict.set(k, v);
    else if (p !== null) obj.state = p;
  }
  if (obj.className === 'joblib.numpy_pickle.NumpyArrayWrapper') {
    if (!ctx.joblib) throw new ModelFormatError('a joblib NumpyArrayWrapper outside a joblib file');
    return readWrappedArray(obj, ctx);
  }
  if (obj.className === 'joblib.numpy_pickle.NDArrayWrapper') {
    throw new UnsupportedModelError(
      'joblib file from joblib < 0.10 (arrays in separate .npy files) is not supported',
    );
  }
  return obj;
}

/** joblib NumpyArrayWrapper.read_array: [padding length byte + padding] then the raw elements. */
function readWrappedArray(w: PyObject, ctx: BuildContext): NdArray {
  const dtype = w.dict.get('dtype');
  if (!(dtype instanceof DType)) throw new ModelFormatError('joblib array wrapper has no dtype');
  const shape = arrayShape(w.dict.get('shape'), 'joblib array shape');
  if (dtype.hasObject) {
    // Object arrays are a nested pickle stream (pickle.load on the same file).
    if (ctx.depth >= LIMITS.nesting)
      throw new ModelFormatError(`joblib object arrays nest deeper than ${LIMITS.nesting} streams`);
    const inner = ctx.loadNested();
    if (!(inner instanceof NdArray)) throw new ModelFormatError(`joblib object array is ${describe(inner)}`);
    return inner;
  }
  const b = ctx.bytes;
  const alignment = w.dict.get('numpy_array_alignment_bytes');
  if (alignment !== undefined && alignment !== null) b.take(b.u8());
  const size = shape.reduce((x, y) => x * y, 1);
  return NdArray.fromBytes(dtype, shape, b.take(size * dtype.itemsize), w.dict.get('order') === 'F');
}
