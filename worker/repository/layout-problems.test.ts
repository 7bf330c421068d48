import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hiddenChange, layoutProblems } from './layout-problems.js';

const root = mkdtempSync(join(tmpdir(), 'grove-layout-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function repo(name: string, files: string[]): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    if (f.endsWith('/')) mkdirSync(join(dir, f), { recursive: true });
    else {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), '{}');
    }
  }
  return dir;
}

describe('layoutProblems', () => {
  it('says when the repository folder is missing, not a folder, or empty', async () => {
    const missing = join(root, 'nope');
    expect(await layoutProblems(missing)).toEqual([
      `model repository '${missing}' does not exist: make it, with one folder per model and one numbered folder per version (<model>/1/model.json)`,
    ]);
    writeFileSync(join(root, 'file'), 'x');
    expect(await layoutProblems(join(root, 'file'))).toEqual([
      `model repository '${join(root, 'file')}' is not a folder`,
    ]);
    const empty = repo('empty', ['.grove/splits.json']);
    expect(await layoutProblems(empty)).toEqual([
      `model repository '${empty}' holds no model folder: add one per model, with one numbered folder per version (<model>/1/model.json)`,
    ]);
  });

  it('names a model file without a version folder, a version folder without a model, a bad name', async () => {
    const dir = repo('mixed', [
      'mymodel/model.json',
      'mymodel/config.json',
      'good/1/model.txt',
      'good/2/',
      'good/.3-incoming/model.txt',
      'bare/config.json',
      'model.ubj',
      '-odd/1/model.json',
      '.hidden/1/model.json',
    ]);
    expect(await layoutProblems(dir)).toEqual([
      "'-odd' is not a model name (letters, digits, '_', '.', '-'), so it is ignored",
      'bare/ has no version folder: put the model file in bare/1/',
      'good/2/ holds no model file (model.json, model.ubj, model.txt, model.joblib, model.pkl, model.grove)',
      'model.ubj is directly in the repository, so it is not served: put it in <model>/1/model.ubj',
      'mymodel/model.json is not in a version folder, so it is not served: move it to mymodel/1/model.json',
    ]);
  });

  it('finds nothing wrong with a well-formed repository', async () => {
    const models = join(import.meta.dirname, '..', '..', 'models');
    expect(await layoutProblems(models)).toEqual([]);
  });
});

describe('hiddenChange', () => {
  it('is a change under a dot name (grove state, staging), not one of a model folder', () => {
    expect(hiddenChange('.grove/jobs-spool/12/0')).toBe(true);
    expect(hiddenChange(Buffer.from('.staging-churn'))).toBe(true);
    expect(hiddenChange('churn/2/model.json')).toBe(false);
    expect(hiddenChange('churn/.grove')).toBe(false); // inside a model: the scan decides
    expect(hiddenChange(null)).toBe(false); // unknown: rescan
  });
});
