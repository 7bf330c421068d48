// Hostile containers of the non-tree kinds (scikit-learn linear models and pipelines, XGBoost
// gblinear) and hostile container frames. Tree containers: trees/layout-checks.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Container } from './container.js';
import { encodeGroveFile } from './formats/grove-binary.js';
import { loadModel } from './load.js';
import {
  type Json,
  PAYLOAD,
  payloadRan,
  refusal,
  withDescriptor,
  withSections,
} from './testing/container-surgery.js';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures');
const load = (rel: string) =>
  loadModel(new Uint8Array(readFileSync(join(FIXTURES, rel))), { fileName: rel.split('/').pop() }).buffer;
const MODELS = {
  dense: load('derived-sklearn/sk-pipeline-minmax-ridge/model.joblib'),
  logistic: load('sklearn/sk-logistic/model.pkl'),
  dict: load('sklearn/sk-sparse-dictvectorizer-logistic/model.pkl'),
  hasher: load('derived-sklearn/sk-sparse-hasher-logistic/model.pkl'),
  gblinear: load('derived/xgb-gblinear-multiclass/model.json'),
};

const DELETE = Symbol('delete');
const INT = [PAYLOAD, -1, 0.5, 2 ** 53, '1', null, [], {}, DELETE];
const BOOL = [PAYLOAD, 1, 'true', null, {}, DELETE];
const ENUM = [PAYLOAD, 'other', 1, null, DELETE];

const LINEAR: Record<string, unknown[]> = {
  linear: [PAYLOAD, null, [], DELETE],
  'linear.K': INT,
  'linear.C': INT,
  'linear.F': INT,
  'linear.nClasses': INT,
  'linear.hashFeatures': INT,
  'linear.f32': BOOL,
  'linear.alternateSign': BOOL,
  'linear.hasColScale': BOOL,
  'linear.vectorizer': ENUM,
  'linear.hashInput': ENUM,
  'linear.output': ENUM,
  'linear.separator': [1, null, 'x'.repeat(70_000), DELETE],
  'linear.steps': [PAYLOAD, null, [PAYLOAD], [{ type: PAYLOAD, hasA: true, hasB: true }], DELETE],
};
const GBLINEAR: Record<string, unknown[]> = {
  gblinear: [PAYLOAD, null, [], DELETE],
  'gblinear.numFeatures': INT,
  'gblinear.numGroups': INT,
  'gblinear.transform': ENUM,
};
const META: Record<string, unknown[]> = {
  kind: [PAYLOAD, 'sklearn-linearx', 1, null, DELETE],
  meta: [PAYLOAD, null, [], DELETE],
  'meta.platform': [PAYLOAD, 1, DELETE],
  'meta.numFeatures': [PAYLOAD, -1, 100_000, DELETE],
  'meta.featureNames': [PAYLOAD, [PAYLOAD, 1], DELETE],
  'meta.outputNames': [PAYLOAD, [], [1], DELETE],
  'meta.rawOutputNames': [PAYLOAD, [], [1], DELETE],
  'meta.sparse': [PAYLOAD, 1, DELETE],
  'meta.usedFeatures': [PAYLOAD, [-1], [1e9], DELETE],
};

function setPath(d: Json, path: string, v: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  const o = keys.reduce((x, k) => x[k], d);
  if (v === DELETE) delete o[last];
  else o[last] = v;
}

function refusals(sab: SharedArrayBuffer, fields: Record<string, unknown[]>): string[] {
  const codes: string[] = [];
  for (const [path, values] of Object.entries(fields))
    for (const v of values) {
      const code = refusal(withDescriptor(sab, (d) => setPath(d, path, v)));
      codes.push(`${path}=${String(v).slice(0, 20)}: ${code}`);
    }
  return codes.filter((c) => !c.endsWith(': GROVE_ERR_MODEL_FORMAT'));
}

describe('linear and gblinear containers with a hostile field are refused with GROVE_ERR_MODEL_FORMAT', () => {
  it('covers every field of the linear and gblinear descriptors', () => {
    for (const [name, sab] of Object.entries(MODELS)) {
      const d = new Container(sab).descriptor as Json;
      const kindFields = name === 'gblinear' ? GBLINEAR : LINEAR;
      const own = d[name === 'gblinear' ? 'gblinear' : 'linear'];
      for (const k of Object.keys(own))
        expect(Object.keys(kindFields)).toContain(`${name === 'gblinear' ? 'gblinear' : 'linear'}.${k}`);
    }
  });
  for (const [name, sab] of Object.entries(MODELS)) {
    it(`${name}: every descriptor field, the meta and every section`, () => {
      const bad: string[] = [];
      const ran = payloadRan(() => {
        bad.push(...refusals(sab, name === 'gblinear' ? GBLINEAR : LINEAR), ...refusals(sab, META));
        for (const n of Object.keys(new Container(sab).descriptor.sections)) {
          for (const [what, edit] of [
            ['deleted', (d: Json) => delete d.sections[n]],
            ['longer', (d: Json) => (d.sections[n].length += 1)],
            ['retyped', (d: Json) => (d.sections[n].type = d.sections[n].type === 'f64' ? 'i32' : 'f64')],
            ['misaligned', (d: Json) => (d.sections[n].offset += 4)],
            ['payload offset', (d: Json) => (d.sections[n].offset = PAYLOAD)],
          ] as const) {
            // A longer section that is not the last may still fit; the kind's length check refuses
            // it. The one exception is the name pool of a feature table: names are read at the
            // offsets the table gives (checked to lie inside it), so a spare byte is never read.
            const code = refusal(withDescriptor(sab, edit));
            if (n === 'vocab_pool' && what === 'longer' && code === 'LOADED') continue;
            if (code !== 'GROVE_ERR_MODEL_FORMAT') bad.push(`${n} ${what}: ${code}`);
          }
        }
      });
      expect(bad).toEqual([]);
      expect(ran).toBe(false);
    });
  }

  it('a sparse model whose feature table has no empty slot (a lookup would never end) is refused', () => {
    const sab = withSections(MODELS.dict, (c) => {
      const s = c.i32('vocab_slots');
      for (let r = 0; r < s.length; r += 4) if (s[r + 1]! < 0) s.set([0, 0, 0, 0], r);
    });
    expect(refusal(sab)).toBe('GROVE_ERR_MODEL_FORMAT');
  });

  it('a feature table pointing outside its names or columns is refused', () => {
    const outside = (col: number, off: number) =>
      withSections(MODELS.dict, (c) => {
        const s = c.i32('vocab_slots');
        for (let r = 0; r < s.length; r += 4)
          if (s[r + 1]! >= 0) {
            s[r + 1] = col;
            s[r + 2] = off;
            break;
          }
      });
    expect(refusal(outside(1e6, 0))).toBe('GROVE_ERR_MODEL_FORMAT');
    expect(refusal(outside(0, 1e6))).toBe('GROVE_ERR_MODEL_FORMAT');
  });
});

describe('a hostile container frame is refused', () => {
  const sab = MODELS.logistic;
  const framed = (edit: (b: Uint8Array, dv: DataView) => void) => {
    const copy = new SharedArrayBuffer(sab.byteLength);
    const b = new Uint8Array(copy);
    b.set(new Uint8Array(sab));
    edit(b, new DataView(copy));
    return copy;
  };
  it('a descriptor that is not JSON, one that runs past the buffer, a bad magic or layout version', () => {
    const cases = [
      framed((b, dv) => {
        const text = Buffer.from(`{"kind": ${PAYLOAD}`);
        b.set(text, 16);
        dv.setUint32(8, text.length, true);
      }),
      framed((_b, dv) => dv.setUint32(8, 0xffffffff, true)),
      framed((_b, dv) => dv.setUint32(0, 0x12345678, true)),
      framed((_b, dv) => dv.setUint32(4, 99, true)),
    ];
    const ran = payloadRan(() => {
      for (const c of cases) expect(refusal(c)).toMatch(/^GROVE_ERR_MODEL_(FORMAT|VERSION)$/);
    });
    expect(ran).toBe(false);
  });
  it('the untouched container still loads (the cases above fail for the reason they show)', () => {
    expect(loadModel(encodeGroveFile(sab)).meta.outputNames.length).toBeGreaterThan(0);
  });
});
