import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanSingleModel } from './scan-single-model.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function folder(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'grove-scan-single-'));
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}

describe('scanSingleModel', () => {
  it('finds the one model-like file, ignoring companions, hidden files and other names', async () => {
    const d = folder({
      'model.bst': '{}',
      'config.json': '{"features": ["a"]}',
      'profile.json': '{}',
      '.model.bst.pull-1-x': 'partial',
      'README.md': '#',
      'requirements.txt': 'xgboost==2.1',
      'LICENSE.txt': 'MIT',
    });
    const [m] = await scanSingleModel(d, 'churn');
    expect(m!.name).toBe('churn');
    expect(m!.configText).toBe('{"features": ["a"]}');
    expect(m!.versions).toHaveLength(1);
    expect(m!.versions[0]).toMatchObject({ version: 1, dir: d, fileName: 'model.bst', problem: null });
  });

  it("prefers grove's own model.* names over other model-like names", async () => {
    const d = folder({ 'model.json': '{}', 'xgb_churn.bst': '{}' });
    expect((await scanSingleModel(d, 'm'))[0]!.versions[0]!.fileName).toBe('model.json');
  });

  it('looks in DIR/1 when DIR itself holds no model file', async () => {
    const d = folder({ '1/model.txt': 'tree\n', 'notes.md': '' });
    const v = (await scanSingleModel(d, 'm'))[0]!.versions[0]!;
    expect(v).toMatchObject({ dir: join(d, '1'), fileName: 'model.txt', problem: null });
  });

  it('reports several candidates instead of picking one, and an empty folder as no file yet', async () => {
    const two = (await scanSingleModel(folder({ 'a.joblib': 'x', 'b.pkl': 'y' }), 'm'))[0]!.versions[0]!;
    expect(two.file).toBeNull();
    expect(two.problem).toBe('the model folder holds 2 model files (a.joblib, b.pkl); keep exactly one');
    const none = (await scanSingleModel(folder({}), 'm'))[0]!.versions[0]!;
    expect(none).toMatchObject({ file: null, problem: null });
  });
});
