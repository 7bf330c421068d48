import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readSklearnFile } from './joblib.js';
import { DType, NdArray } from './numpy-array.js';
import { PyObject } from './py-values.js';
import { unpickle } from './unpickler.js';

const FIXTURES = join(import.meta.dirname, '../../../../test/fixtures/sklearn');
const ascii = (s: string) => Buffer.from(s, 'latin1');
const cat = (...parts: (Uint8Array | number[])[]) =>
  Buffer.concat(parts.map((p) => Buffer.from(p as Uint8Array)));
const shortStr = (s: string) => cat([0x8c, Buffer.byteLength(s)], ascii(s));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('unpickler: refuses code', () => {
  const marker = join(tmpdir(), `grove-pwned-${process.pid}`);

  it('refuses os.system via GLOBAL + REDUCE and runs nothing', () => {
    rmSync(marker, { force: true });
    const evil = ascii(`cos\nsystem\n(S'touch ${marker}'\ntR.`);
    let err: unknown;
    try {
      unpickle(evil);
    } catch (e) {
      err = e;
    }
    expect((err as { code: string }).code).toBe('GROVE_ERR_UNSAFE_PICKLE');
    expect((err as Error).message).toContain('os.system');
    expect((err as { global: string }).global).toBe('os.system');
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses STACK_GLOBAL builtins.eval, posix.system, subprocess.Popen at protocol 4/5', () => {
    for (const [mod, name] of [
      ['builtins', 'eval'],
      ['posix', 'system'],
      ['subprocess', 'Popen'],
      ['builtins', 'getattr'],
      ['sklearn.utils', 'Bunch'],
    ] as const) {
      const p = cat(
        [0x80, 5],
        shortStr(mod),
        shortStr(name),
        [0x93],
        shortStr(`touch ${marker}`),
        [0x85, 0x52, 0x2e],
      );
      let err: unknown;
      try {
        unpickle(p);
      } catch (e) {
        err = e;
      }
      expect((err as { code: string }).code).toBe('GROVE_ERR_UNSAFE_PICKLE');
      expect((err as Error).message).toContain(`${mod}.${name}`);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses INST and OBJ of unknown classes, EXT codes and persistent ids', () => {
    expect(codeOf(() => unpickle(ascii(`(S'touch ${marker}'\nios\nsystem\n.`)))).toBe(
      'GROVE_ERR_UNSAFE_PICKLE',
    );
    expect(codeOf(() => unpickle(cat([0x80, 2, 0x28, 0x82, 7, 0x6f, 0x2e])))).toBe('GROVE_ERR_UNSAFE_PICKLE');
    expect(codeOf(() => unpickle(cat([0x80, 2], ascii('Pabc\n.'))))).toBe('GROVE_ERR_UNSAFE_PICKLE');
    // NEWOBJ on an allowlisted function (not a class) is refused too.
    const p = cat(
      [0x80, 4],
      shortStr('numpy.core.numeric'),
      shortStr('_frombuffer'),
      [0x93, 0x29, 0x81, 0x2e],
    );
    expect(codeOf(() => unpickle(p))).toBe('GROVE_ERR_UNSAFE_PICKLE');
    expect(existsSync(marker)).toBe(false);
  });

  it('a REDUCE on a non-global value is refused', () => {
    // ("x",) "y" REDUCE: calling a string.
    const p = cat([0x80, 4], shortStr('x'), shortStr('y'), [0x85, 0x52, 0x2e]);
    expect(codeOf(() => unpickle(p))).toBe('GROVE_ERR_UNSAFE_PICKLE');
  });
});

describe('unpickler: data', () => {
  it('reads scalars, containers, memo and frames', () => {
    // protocol 4: FRAME, {"a": [1, -2, 3.5, True, None, (b"hi",)], "__proto__": 70000} with MEMOIZE/BINGET
    const body = cat(
      [0x7d, 0x94, 0x28],
      shortStr('a'),
      [0x94, 0x5d, 0x94, 0x28, 0x4b, 1, 0x4a, 0xfe, 0xff, 0xff, 0xff, 0x47],
      Buffer.from([0x40, 0x0c, 0, 0, 0, 0, 0, 0]),
      [0x88, 0x4e, 0x43, 2],
      ascii('hi'),
      [0x85, 0x65],
      shortStr('__proto__'),
      [0x4a, 0x70, 0x11, 0x01, 0x00],
      shortStr('again'),
      [0x68, 2],
      [0x75, 0x2e],
    );
    const frame = Buffer.alloc(8);
    frame.writeUInt32LE(body.length, 0);
    const v = unpickle(cat([0x80, 4, 0x95], frame, body)) as Map<string, unknown>;
    expect(v).toBeInstanceOf(Map);
    const list = v.get('a') as unknown[];
    expect(list.slice(0, 5)).toEqual([1, -2, 3.5, true, null]);
    expect(Buffer.from((list[5] as Uint8Array[])[0]!).toString()).toBe('hi');
    expect(v.get('__proto__')).toBe(70000);
    expect(v.get('again')).toBe(list);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('LONG1 handles big and negative integers', () => {
    expect(unpickle(cat([0x80, 2, 0x8a, 2, 0xff, 0x7f, 0x2e]))).toBe(32767);
    expect(unpickle(cat([0x80, 2, 0x8a, 1, 0xff, 0x2e]))).toBe(-1);
    expect(unpickle(cat([0x80, 2, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x2e]))).toBe(1n << 64n);
  });

  it('truncated streams give a typed error', () => {
    const bytes = readFileSync(join(FIXTURES, 'sk-logistic/model.pkl'));
    for (const cut of [1, 10, 100, 400, bytes.length - 1]) {
      expect(codeOf(() => unpickle(bytes.subarray(0, cut)))).toMatch(/^GROVE_ERR_MODEL_(TRUNCATED|FORMAT)$/);
    }
    expect(codeOf(() => unpickle(bytes.subarray(0, 400)))).toBe('GROVE_ERR_MODEL_TRUNCATED');
    expect(codeOf(() => readSklearnFile(new Uint8Array(0)))).toBe('GROVE_ERR_MODEL_FORMAT');
  });

  it('refuses out-of-band buffers and unknown opcodes with typed errors', () => {
    expect(codeOf(() => unpickle(cat([0x80, 5, 0x97, 0x2e])))).toBe('GROVE_ERR_UNSUPPORTED_MODEL');
    expect(codeOf(() => unpickle(cat([0x80, 5, 0xff])))).toBe('GROVE_ERR_MODEL_FORMAT');
  });
});

describe('numpy arrays', () => {
  const dtypeState = (order: string) =>
    cat(
      [0x28, 0x4b, 3],
      shortStr(order),
      [0x4e, 0x4e, 0x4e, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4b, 0, 0x74],
    );
  const dtype = (spec: string, order: string) =>
    cat(
      shortStr('numpy'),
      shortStr('dtype'),
      [0x93],
      shortStr(spec),
      [0x89, 0x88, 0x87, 0x52],
      dtypeState(order),
      [0x62],
    );

  it('_frombuffer with big-endian bytes and numpy 2 module names', () => {
    const data = Buffer.alloc(16);
    data.writeDoubleBE(1.5, 0);
    data.writeDoubleBE(-2.25, 8);
    for (const core of ['numpy.core', 'numpy._core']) {
      const p = cat(
        [0x80, 5],
        shortStr(`${core}.numeric`),
        shortStr('_frombuffer'),
        [0x93, 0x28, 0x96],
        Buffer.from([16, 0, 0, 0, 0, 0, 0, 0]),
        data,
        dtype('f8', '>'),
        [0x4b, 2, 0x85],
        shortStr('C'),
        [0x74, 0x52, 0x2e],
      );
      const a = unpickle(p) as NdArray;
      expect(a).toBeInstanceOf(NdArray);
      expect([...a.toFloat64()]).toEqual([1.5, -2.25]);
    }
  });

  it('_reconstruct + BUILD state, Fortran order', () => {
    // 2x3 int32 array [[1,2,3],[4,5,6]] stored in Fortran order: 1,4,2,5,3,6
    const raw = Buffer.alloc(24);
    [1, 4, 2, 5, 3, 6].forEach((v, i) => {
      raw.writeInt32LE(v, i * 4);
    });
    const p = cat(
      [0x80, 2],
      ascii('cnumpy.core.multiarray\n_reconstruct\n'),
      ascii('cnumpy\nndarray\n'),
      [0x4b, 0, 0x85, 0x43, 1, 0x62, 0x87, 0x52],
      [0x28, 0x4b, 1, 0x4b, 2, 0x4b, 3, 0x86],
      ascii('cnumpy\ndtype\n'),
      shortStr('i4'),
      [0x89, 0x88, 0x87, 0x52],
      dtypeState('<'),
      [0x62, 0x88, 0x43, 24],
      raw,
      [0x74, 0x62, 0x2e],
    );
    const a = unpickle(p) as NdArray;
    expect(a.shape).toEqual([2, 3]);
    expect([...a.toFloat64()]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('structured tree node records expose every field', () => {
    const bytes = readFileSync(join(FIXTURES, 'sk-decision-tree-reg/model.pkl'));
    const est = unpickle(bytes) as PyObject;
    const tree = est.dict.get('tree_') as PyObject;
    const nodes = (tree.state as Map<string, unknown> | undefined)?.get('nodes') ?? tree.dict.get('nodes');
    expect(nodes).toBeInstanceOf(NdArray);
    const arr = nodes as NdArray;
    expect(arr.dtype.fields!.map((f) => f.name)).toEqual([
      'left_child',
      'right_child',
      'feature',
      'threshold',
      'impurity',
      'n_node_samples',
      'weighted_n_node_samples',
    ]);
    const left = arr.toFloat64('left_child');
    const right = arr.toFloat64('right_child');
    expect(left.length).toBe(tree.dict.get('node_count'));
    // children are either both -1 (leaf) or both valid node ids
    for (let i = 0; i < left.length; i++) expect(left[i]! < 0).toBe(right[i]! < 0);
    expect(arr.dtype).toBeInstanceOf(DType);
  });
});

describe('joblib and pickle fixtures', () => {
  const dirs = readdirSync(FIXTURES);
  it.each(dirs)('%s: model.joblib and model.pkl rebuild the same estimator', (dir) => {
    const a = readSklearnFile(readFileSync(join(FIXTURES, dir, 'model.joblib'))) as PyObject;
    const b = readSklearnFile(readFileSync(join(FIXTURES, dir, 'model.pkl'))) as PyObject;
    expect(a).toBeInstanceOf(PyObject);
    expect(a.className).toBe(b.className);
    expect([...a.dict.keys()]).toEqual([...b.dict.keys()]);
  });

  it('zlib and gzip joblib files inflate; other compressors are refused by name', () => {
    const raw = readFileSync(join(FIXTURES, 'sk-ridge/model.joblib'));
    const coef = (v: unknown) => [...((v as PyObject).dict.get('coef_') as NdArray).toFloat64()];
    const plain = coef(readSklearnFile(raw));
    expect(coef(readSklearnFile(deflateSync(raw)))).toEqual(plain);
    expect(coef(readSklearnFile(gzipSync(raw)))).toEqual(plain);
    for (const [magic, name] of [
      [[0x42, 0x5a, 0x68], 'bz2'],
      [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0], 'xz'],
      [[0x04, 0x22, 0x4d, 0x18], 'lz4'],
      [[0x5d, 0x00, 0x00], 'lzma'],
    ] as const) {
      let err: unknown;
      try {
        readSklearnFile(Uint8Array.from(magic));
      } catch (e) {
        err = e;
      }
      expect((err as { code: string }).code).toBe('GROVE_ERR_UNSUPPORTED_MODEL');
      expect((err as Error).message).toContain(name);
    }
  });
});

describe('allowlist: inert scikit-learn helper objects', () => {
  it('Cython loss objects of sklearn._loss and SGD rebuild as data; their neighbours stay refused', () => {
    const call = (mod: string, name: string) =>
      unpickle(cat([0x80, 4], shortStr(mod), shortStr(name), [0x93, 0x4b, 1, 0x85, 0x52, 0x2e]));
    expect(call('sklearn._loss._loss', '__pyx_unpickle_CyHalfMultinomialLoss')).toBeInstanceOf(PyObject);
    expect(call('sklearn.linear_model._sgd_fast', 'Hinge')).toBeInstanceOf(PyObject);
    expect(call('sklearn.linear_model._sgd_fast', '__pyx_unpickle_Log')).toBeInstanceOf(PyObject);
    expect(codeOf(() => call('sklearn.linear_model._sgd_fast', '_plain_sgd'))).toBe(
      'GROVE_ERR_UNSAFE_PICKLE',
    );
    expect(codeOf(() => call('sklearn._loss._loss', 'np'))).toBe('GROVE_ERR_UNSAFE_PICKLE');
  });
});
