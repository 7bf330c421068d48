// One pass over the model repository folder (docs/architecture.md, model repository):
// `<root>/<model>/` holds an optional config.json and numbered version folders, each with exactly
// one model file. The scan only stats files (cheap); the repository decides what to (re)load from
// the fingerprints. Symbolic links are resolved, and one that leads out of the repository's root
// is not followed (a `model.txt -> /etc/passwd` stays unread) unless the operator asked for it
// with --follow-symlinks; the model file is then loaded by its resolved path.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

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
  /** Why config.json was not read (a link out of the repository), else null. */
  configProblem: string | null;
  versions: ScannedVersion[];
}

export interface ScanOptions {
  /** Follow symbolic links wherever they lead (default: only inside the repository's root). */
  followSymlinks?: boolean;
}

const LINK_OUT = 'links outside the model repository (start the worker with --follow-symlinks to allow it)';

/** The repository root as scans compare against it (symbolic links resolved). */
export function realRoot(root: string): Promise<string> {
  return realpath(root).catch(() => root);
}

/** A model folder's config.json: its text (null when absent), or why it was not read. */
export async function readConfig(
  dir: string,
  root: string,
  opts: ScanOptions,
): Promise<{ configText: string | null; configProblem: string | null }> {
  const config = await resolveInside(join(dir, 'config.json'), root, opts.followSymlinks === true);
  if (config === 'out') return { configText: null, configProblem: `config.json ${LINK_OUT}` };
  if (config === null) return { configText: null, configProblem: null };
  return { configText: await readFile(config, 'utf8').catch(() => null), configProblem: null };
}

/** Resolves `p`; null when it does not exist or leads out of `root` (a resolved path) unless allowed. */
async function resolveInside(p: string, root: string, follow: boolean): Promise<string | null | 'out'> {
  let real: string;
  try {
    real = await realpath(p);
  } catch {
    return null;
  }
  if (follow || real === root || real.startsWith(root.endsWith(sep) ? root : root + sep)) return real;
  return 'out';
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
 * mode; null: none found); by default the folder's one file named in MODEL_FILE_NAMES. `root` is
 * the repository's resolved root: the model file may not link out of it unless `opts` allow it.
 */
export async function scanVersion(
  version: number,
  dir: string,
  root: string,
  opts: ScanOptions = {},
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
  const file = await resolveInside(join(dir, names[0]!), root, opts.followSymlinks === true);
  if (file === 'out') return { ...base, problem: `${names[0]} ${LINK_OUT}` };
  if (file === null) return base;
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

export async function scanRepository(root: string, opts: ScanOptions = {}): Promise<ScannedModel[]> {
  const follow = opts.followSymlinks === true;
  const real = await realRoot(root);
  const out: ScannedModel[] = [];
  for (const name of (await entries(root)).sort()) {
    if (!MODEL_NAME.test(name)) continue;
    const dir = join(root, name);
    // A model folder that links out of the repository is not a model of it.
    const realDir = await resolveInside(dir, real, follow);
    if (realDir === null || realDir === 'out' || !(await isDir(realDir))) continue;
    const { configText, configProblem } = await readConfig(dir, real, opts);
    const versions: ScannedVersion[] = [];
    for (const v of await entries(dir)) {
      if (!VERSION_NAME.test(v)) continue;
      const vdir = join(dir, v);
      const realV = await resolveInside(vdir, real, follow);
      if (realV === 'out') {
        const problem = `folder ${v} ${LINK_OUT}`;
        versions.push({
          version: Number(v),
          dir: vdir,
          file: null,
          fileName: null,
          fingerprint: '',
          mtimeMs: 0,
          problem,
        });
        continue;
      }
      if (realV === null || !(await isDir(realV))) continue;
      versions.push(await scanVersion(Number(v), vdir, real, opts));
    }
    out.push({ name, dir, configText, configProblem, versions });
  }
  return out;
}
