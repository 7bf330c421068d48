// What in a model repository's layout serves nothing, said in words (README, The demo repository):
// a repository folder that does not exist or holds no model, a model file placed without a version
// folder (`models/mymodel/model.json`), a model folder without versions, a version folder without
// a model file, a folder whose name is not a model name. The scan (scan-repository.ts) skips all of
// these silently, as it must while files are being copied; this pass lets the worker say so at
// start, in its log and in GET /v2/models.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_FILE_NAMES, MODEL_NAME } from './scan-repository.js';

const VERSION_NAME = /^(0|[1-9][0-9]{0,15})$/;

async function list(dir: string): Promise<string[] | null> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return null;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** The layout problems of the repository at `root`, one sentence each (paths relative to it). */
/**
 * A change under a name starting with '.' (staging folders, grove's own state such as
 * `.grove/jobs-db` and `.grove/jobs-spool`): nothing a scan reads, so no reason to rescan.
 */
export function hiddenChange(relativePath: string | Buffer | null): boolean {
  return relativePath !== null && relativePath.toString().startsWith('.');
}

export async function layoutProblems(root: string): Promise<string[]> {
  const names = await list(root);
  if (names === null) {
    return [
      (await stat(root).catch(() => null))
        ? `model repository '${root}' is not a folder`
        : `model repository '${root}' does not exist: make it, with one folder per model and one numbered folder per version (<model>/1/model.json)`,
    ];
  }
  const problems: string[] = [];
  let models = 0;
  for (const name of names) {
    if (name.startsWith('.')) continue; // staging folders and grove's own state
    const path = join(root, name);
    if (!(await isDir(path))) {
      if (MODEL_FILE_NAMES.includes(name))
        problems.push(
          `${name} is directly in the repository, so it is not served: put it in <model>/1/${name}`,
        );
      continue;
    }
    if (!MODEL_NAME.test(name)) {
      problems.push(`'${name}' is not a model name (letters, digits, '_', '.', '-'), so it is ignored`);
      continue;
    }
    models++;
    const inside = (await list(path)) ?? [];
    const loose = inside.filter((f) => MODEL_FILE_NAMES.includes(f));
    for (const f of loose) {
      problems.push(
        `${name}/${f} is not in a version folder, so it is not served: move it to ${name}/1/${f}`,
      );
    }
    let versions = 0;
    for (const v of inside) {
      if (!VERSION_NAME.test(v) || !(await isDir(join(path, v)))) continue;
      versions++;
      const files = (await list(join(path, v))) ?? [];
      if (!files.some((f) => MODEL_FILE_NAMES.includes(f)))
        problems.push(`${name}/${v}/ holds no model file (${MODEL_FILE_NAMES.join(', ')})`);
    }
    if (versions === 0 && loose.length === 0)
      problems.push(`${name}/ has no version folder: put the model file in ${name}/1/`);
  }
  if (models === 0 && problems.length === 0)
    problems.push(
      `model repository '${root}' holds no model folder: add one per model, with one numbered folder per version (<model>/1/model.json)`,
    );
  return problems;
}
