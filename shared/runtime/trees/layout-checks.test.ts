import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Container } from '../container.js';
import { encodeGroveFile } from '../formats/grove-binary.js';
import { loadModel, modelFromBuffer } from '../load.js';
import {
  type Json,
  PAYLOAD,
  payloadRan,
  refusal,
  withDescriptor,
  withSections,
} from '../testing/container-surgery.js';
import { TREE_GENERIC, TREE_HEAP } from './flat-layout.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');
const MODELS = {
  // linear leaves: always the JavaScript kernels (kernels.ts), whatever GROVE_KERNEL says
  linear: 'derived/lgb-linear-tree/model.txt',
  // heap and generic trees
  generic: 'lightgbm/lgb-nan-unseen/model.txt',
  categorical: 'derived/lgb-categorical-edge/model.txt',
  // vector leaves (a forest's class distributions), XGBoost-style float32 precision
  forest: 'sklearn/sk-random-forest/model.pkl',
  xgboost: 'xgboost/xgb-binary-100x4/model.json',
};
const base = (rel: string) => {
  const file = join(FIXTURES, rel);
  return loadModel(new Uint8Array(readFileSync(file)), { fileName: rel.split('/').pop() }).buffer;
};
const BUFFERS = Object.fromEntries(Object.entries(MODELS).map(([k, v]) => [k, base(v)])) as Record<
  keyof typeof MODELS,
  SharedArrayBuffer
>;

const DELETE = Symbol('delete');
const INT = [PAYLOAD, -1, 0.5, 2 ** 53, '1', null, [], {}, DELETE];
const BOOL = [PAYLOAD, 1, 'true', null, {}];
const ENUM = [PAYLOAD, 'f16', 1, null, DELETE];
const SIDE = [PAYLOAD, 'up', 1, null, DELETE];

/** Hostile values per descriptor field of a 'trees' container (meta.* are every kind's). */
const FIELDS: Record<string, unknown[]> = {
  kind: [PAYLOAD, 'tree', 1, null, DELETE],
  sections: [PAYLOAD, null, [], DELETE],
  numTrees: INT,
  numGroups: INT,
  leafWidth: INT,
  numFeatures: INT,
  maxDepth: INT,
  slotGroups: [PAYLOAD, [PAYLOAD], [6], [-1], [1, 0], [0, 0], [], [0.5], null, DELETE],
  thresholdType: ENUM,
  inputPrecision: ENUM,
  sumPrecision: ENUM,
  transform: [PAYLOAD, 'sigmoid2', 1, null, DELETE],
  sigmoidScale: [PAYLOAD, -1, 0, null, '1', DELETE],
  average: [...BOOL, DELETE],
  averageRaw: BOOL,
  hasKids: [...BOOL, DELETE],
  hasCat: [...BOOL, DELETE],
  explain: [PAYLOAD, null, [], 1, DELETE],
  'explain.cover': [...BOOL, DELETE],
  'explain.gain': [...BOOL, DELETE],
  hasLinear: BOOL,
  categorical: [PAYLOAD, null, [], DELETE],
  'categorical.inSetGoesLeft': [...BOOL, DELETE],
  'categorical.nan': SIDE,
  'categorical.invalid': SIDE,
  'categorical.negative': [PAYLOAD, 'up', 1, null],
  meta: [PAYLOAD, null, [], DELETE],
  'meta.platform': [PAYLOAD, 1, DELETE],
  'meta.sourcePlatform': [PAYLOAD, 1, DELETE],
  'meta.library': [PAYLOAD, 1, DELETE],
  'meta.task': [PAYLOAD, 1, DELETE],
  'meta.objective': [1, null, [PAYLOAD], 'x'.repeat(70_000), DELETE],
  'meta.numFeatures': [PAYLOAD, -1, 100_000, DELETE],
  'meta.featureNames': [PAYLOAD, [PAYLOAD], [1], null, DELETE],
  'meta.outputNames': [PAYLOAD, [], [1], [PAYLOAD, PAYLOAD, PAYLOAD], DELETE],
  'meta.rawOutputNames': [PAYLOAD, [], [1], [PAYLOAD, PAYLOAD, PAYLOAD], DELETE],
  'meta.classes': [PAYLOAD, [{}], 7, DELETE],
  'meta.sparse': [PAYLOAD, 1, true, DELETE],
  'meta.usedFeatures': [PAYLOAD, [-1], [1e9], [0.5], DELETE],
};

function setPath(d: Json, path: string, v: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  const o = keys.reduce((x, k) => x[k], d);
  if (v === DELETE) delete o[last];
  else o[last] = v;
}

/** Every leaf path of a descriptor, sections aside ('meta.featureNames', 'categorical.nan', ...). */
function paths(o: Json, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    k === 'sections' || k === 'kind'
      ? [k]
      : v !== null && typeof v === 'object' && !Array.isArray(v)
        ? [`${prefix}${k}`, ...paths(v, `${prefix}${k}.`)]
        : [`${prefix}${k}`],
  );
}

describe('a trees container is refused with GROVE_ERR_MODEL_FORMAT when any field is hostile, and nothing runs', () => {
  it('covers every descriptor field of every kind of tree model', () => {
    for (const sab of Object.values(BUFFERS))
      for (const p of paths(new Container(sab).descriptor)) expect(Object.keys(FIELDS)).toContain(p);
  });

  for (const [name, sab] of Object.entries(BUFFERS)) {
    it(`${name}: every descriptor field`, () => {
      const codes: string[] = [];
      const ran = payloadRan(() => {
        for (const [path, values] of Object.entries(FIELDS))
          for (const v of values)
            codes.push(
              `${path}=${String(v).slice(0, 20)}: ${refusal(withDescriptor(sab, (d) => setPath(d, path, v)))}`,
            );
      });
      expect(codes.filter((c) => !c.endsWith(': GROVE_ERR_MODEL_FORMAT'))).toEqual([]);
      expect(ran).toBe(false);
    });

    it(`${name}: every section's reference (missing, type, length, offset)`, () => {
      const names = Object.keys(new Container(sab).descriptor.sections);
      const edits: Array<(r: Json) => void> = [
        (r) => (r.type = r.type === 'f64' ? 'f32' : 'f64'),
        (r) => (r.type = PAYLOAD),
        (r) => (r.length += 1),
        (r) => (r.length = r.length > 0 ? r.length - 1 : -1),
        (r) => (r.length = PAYLOAD),
        (r) => (r.offset += 8),
        (r) => (r.offset = 2 ** 40),
        (r) => (r.offset = PAYLOAD),
      ];
      const codes: string[] = [];
      const ran = payloadRan(() => {
        for (const n of names) {
          codes.push(`${n} deleted: ${refusal(withDescriptor(sab, (d) => delete d.sections[n]))}`);
          edits.forEach((e, i) => {
            codes.push(`${n} edit ${i}: ${refusal(withDescriptor(sab, (d) => e(d.sections[n])))}`);
          });
        }
      });
      expect(codes.filter((c) => !c.endsWith(': GROVE_ERR_MODEL_FORMAT'))).toEqual([]);
      expect(ran).toBe(false);
    });
  }

  it('strings from the descriptor are data: a payload in every name loads, predicts as before and never runs', () => {
    const sab = BUFFERS.linear;
    const m = new Container(sab).descriptor.meta;
    const hostile = withDescriptor(sab, (d) => {
      d.meta.objective = PAYLOAD;
      d.meta.featureNames = d.meta.featureNames.map(() => PAYLOAD);
      d.meta.outputNames = d.meta.outputNames.map(() => PAYLOAD);
      d.meta.rawOutputNames = d.meta.rawOutputNames.map(() => PAYLOAD);
      d.meta.classes = [PAYLOAD, PAYLOAD];
    });
    const row = new Float64Array(m.numFeatures).map((_, i) => i / 7);
    const want = new Float64Array(1);
    const got = new Float64Array(1);
    const ran = payloadRan(() => {
      modelFromBuffer(sab).predictOne(row, want);
      expect(refusal(hostile)).toBe('LOADED');
      loadModel(encodeGroveFile(hostile)).predictOne(row, got);
    });
    expect(ran).toBe(false);
    expect(got[0]).toBe(want[0]);
  });
});

describe('a trees container whose sections lie is refused', () => {
  const table = (c: Container) => c.i32('tree_table');
  const firstOf = (c: Container, kind: number) => {
    const t = table(c);
    for (let q = 0; q < t.length; q += 4) if (t[q] === kind) return q;
    throw new Error(`no tree of kind ${kind}`);
  };
  const cases: Array<[keyof typeof BUFFERS, string, (c: Container) => void]> = [
    ['generic', 'a tree kind that does not exist', (c) => (table(c)[0] = 7)],
    [
      'generic',
      'a heap tree deeper than the kernel unrolls',
      (c) => (table(c)[firstOf(c, TREE_HEAP) + 1] = 13),
    ],
    ['generic', 'a negative depth', (c) => (table(c)[firstOf(c, TREE_HEAP) + 1] = -1)],
    ['generic', 'a tree that is not where the layout puts it', (c) => (table(c)[4 + 2] += 1)],
    ['generic', 'leaves before the first', (c) => (table(c)[3] = -5)],
    ['generic', 'a generic tree deeper than it says', (c) => (table(c)[firstOf(c, TREE_GENERIC) + 1] -= 1)],
    ['generic', 'a slot outside the slot row', (c) => (c.i32('node_slot')[0] = 1e9)],
    ['generic', 'a negative slot', (c) => (c.i32('node_slot')[0] = -1)],
    [
      'generic',
      'a child pointing back at its parent (a cycle)',
      (c) => {
        const nb = table(c)[firstOf(c, TREE_GENERIC) + 2]!;
        c.i32('node_kids')[2 * (nb + 1)] = nb;
      },
    ],
    [
      'generic',
      'a child outside the nodes',
      (c) => {
        const nb = table(c)[firstOf(c, TREE_GENERIC) + 2]!;
        c.i32('node_kids')[2 * nb + 1] = 1e9;
      },
    ],
    ['generic', 'a tree adding to a column that does not exist', (c) => (c.i32('tree_group')[0] = 1)],
    ['generic', 'a wrong tree count per column', (c) => (c.i32('group_tree_count')[0] += 1)],
    ['categorical', 'a bitset far beyond cat_bits', (c) => c.i32('node_cat_words').fill(1 << 26)],
    ['categorical', 'a bitset outside cat_bits', (c) => c.i32('node_cat').fill(1e6)],
    ['linear', 'linear terms outside the term arrays', (c) => c.i32('linear_offset').fill(1e6)],
    ['linear', 'a linear term on a feature the model lacks', (c) => c.i32('linear_feature').fill(1e6)],
  ];
  for (const [model, what, edit] of cases) {
    it(what, () => {
      let code = '';
      const ran = payloadRan(() => {
        code = refusal(withSections(BUFFERS[model], edit));
      });
      expect(code).toBe('GROVE_ERR_MODEL_FORMAT');
      expect(ran).toBe(false);
    });
  }
});
