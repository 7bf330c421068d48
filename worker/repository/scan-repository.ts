// One pass over the model repository folder (DESIGN.md, Model repository): `<root>/<model>/` holds
// an optional config.json and numbered version folders, each with exactly one model file. The scan
// only stats files (cheap); the repository decides what to (re)load from the fingerprints.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const MODEL_FILE_NAMES = [
  'model.json',
  'model.ubj',
  'model.txt',
  'model.joblib',
  'model.pkl',
  'model.grove',
];

export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const VERSION_NAME = /^(0|[1-9][0-9]{0,15})$/;

export interface ScannedVersion {
  version: number;
  dir: string;
  /** The model file; null when the folder has none (yet) or several (`problem` says which). */
  file: string | null;
  fileName: string | null;
  /** size:mtime:ino of the model file; changes when the file is rewritten or replaced. */
  fingerprint: string;
  mtimeMs: number;
  problem: string | null;
}

export interface ScannedModel {
  name: string;
  dir: string;
  /** config.json text, or null when absent. */
  configText: string | null;
  versions: ScannedVersion[];
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * One version folder. `fileName` names its model file when the caller has chosen it (single-model
 * mode; null: none found); by default the folder's one file named in MODEL_FILE_NAMES.
 */
export async function scanVersion(
  version: number,
  dir: string,
  fileName?: string | null,
): Promise<ScannedVersion> {
  const names =
    fileName === undefined
      ? (await entries(dir)).filter((n) => MODEL_FILE_NAMES.includes(n)).sort()
      : fileName === null
        ? []
        : [fileName];
  const base: ScannedVersion = {
    version,
    dir,
    file: null,
    fileName: null,
    fingerprint: '',
    mtimeMs: 0,
    problem: null,
  };
  if (names.length === 0) return base;
  if (names.length > 1) {
    return {
      ...base,
      problem: `version folder holds ${names.length} model files (${names.join(', ')}); keep exactly one`,
    };
  }
  const file = join(dir, names[0]!);
  try {
    const st = await stat(file);
    if (!st.isFile()) return { ...base, problem: `${names[0]} is not a regular file` };
    return {
      ...base,
      file,
      fileName: names[0]!,
      fingerprint: `${st.size}:${st.mtimeMs}:${st.ino}`,
      mtimeMs: st.mtimeMs,
    };
  } catch {
    return base;
  }
}

export async function scanRepository(root: string): Promise<ScannedModel[]> {
  const out: ScannedModel[] = [];
  for (const name of (await entries(root)).sort()) {
    if (!MODEL_NAME.test(name)) continue;
    const dir = join(root, name);
    if (!(await isDir(dir))) continue;
    let configText: string | null = null;
    try {
      configText = await readFile(join(dir, 'config.json'), 'utf8');
    } catch {
      configText = null;
    }
    const versions: ScannedVersion[] = [];
    for (const v of await entries(dir)) {
      if (!VERSION_NAME.test(v)) continue;
      const vdir = join(dir, v);
      if (!(await isDir(vdir))) continue;
      versions.push(await scanVersion(Number(v), vdir));
    }
    out.push({ name, dir, configText, versions });
  }
  return out;
}
