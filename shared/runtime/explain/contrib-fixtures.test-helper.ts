// Test support for explanations: every fixture folder with the library's own contributions
// (contribs.csv, or the folder its meta.json names `from` when it only re-spells that model), and
// the tolerance the contributions are held to: 1e-5 x (1 + |value|).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { FIXTURES } from '../fixtures.test-helper.js';

export interface ContribFixture {
  /** e.g. 'xgboost/xgb-binary-100x4' */
  name: string;
  dir: string;
  modelFile: string;
  contribs: string;
}

const MODEL_FILES = ['model.json', 'model.ubj', 'model.txt'];

export function contribFixtures(): ContribFixture[] {
  const out: ContribFixture[] = [];
  for (const group of ['xgboost', 'lightgbm', 'derived']) {
    for (const name of readdirSync(FIXTURES + group).sort()) {
      const dir = `${FIXTURES}${group}/${name}/`;
      const modelFile = MODEL_FILES.find((f) => existsSync(dir + f));
      if (!modelFile) continue;
      let contribs = `${dir}contribs.csv`;
      if (!existsSync(contribs) && existsSync(`${dir}meta.json`)) {
        const from = (JSON.parse(readFileSync(`${dir}meta.json`, 'utf8')) as { from?: string }).from;
        if (from) contribs = `${FIXTURES}${from}/contribs.csv`;
      }
      if (existsSync(contribs)) out.push({ name: `${group}/${name}`, dir, modelFile, contribs });
    }
  }
  return out;
}

/** The first value outside 1e-5 x (1 + |want|), as a message, or null. */
export function contribMismatch(got: Float64Array, want: Float64Array, width: number): string | null {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (g !== w && !(Math.abs(g - w) <= 1e-5 * (1 + Math.abs(w))))
      return `row ${Math.floor(i / width)} column ${i % width}: got ${g}, want ${w}`;
  }
  return null;
}
