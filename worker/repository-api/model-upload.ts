// Model files sent with a repository load (Triton's load with `parameters.config` and
// `file:<version>/<name>` entries, base64), written into the repository the way an operator
// should copy them: staged under a dot-named folder the scanner ignores, then renamed into place
// (a rename is atomic, so no scan sees half a file). Only model files, profile.json and
// config.json are accepted, under numbered version folders: nothing names a path outside the
// model's folder. `undo()` puts back what was there, for a load that failed.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadInputError } from '../../shared/errors/grove-error.js';
import { parseModelConfig } from '../repository/model-config.js';
import { MODEL_FILE_NAMES } from '../repository/scan-repository.js';

const FILE_PARAM = /^file:(0|[1-9][0-9]{0,15})\/([a-z.]+)$/;
const ACCEPTED = new Set([...MODEL_FILE_NAMES, 'profile.json']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export interface Upload {
  /** config.json text, when the load carries one. */
  config: string | null;
  /** version -> file name -> bytes. */
  files: Map<string, Map<string, Buffer>>;
}

function bad(msg: string): never {
  throw new BadInputError(msg, 'GROVE_ERR_BAD_UPLOAD');
}

/** Reads a load request's `parameters`: `config` (a JSON string) and `file:<version>/<name>` (base64). */
export function readUpload(parameters: unknown): Upload {
  const up: Upload = { config: null, files: new Map() };
  if (parameters === undefined || parameters === null) return up;
  if (typeof parameters !== 'object' || Array.isArray(parameters)) bad('"parameters" must be an object');
  for (const [key, value] of Object.entries(parameters as Record<string, unknown>)) {
    if (key === 'config') {
      if (typeof value !== 'string') bad('parameters.config must be a string holding the JSON config');
      parseModelConfig(value); // throws GROVE_ERR_BAD_CONFIG before anything is written
      up.config = value;
      continue;
    }
    if (!key.startsWith('file:')) continue; // other parameters (Triton's) do not concern files
    const m = FILE_PARAM.exec(key);
    if (m === null || !ACCEPTED.has(m[2]!)) {
      bad(
        `'${key.slice(0, 80)}' is not an accepted file: use file:<version>/<name> with name one of ${[...ACCEPTED].join(', ')}`,
      );
    }
    if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) {
      bad(`${key} must be base64`);
    }
    let files = up.files.get(m[1]!);
    if (files === undefined) up.files.set(m[1]!, (files = new Map()));
    files.set(m[2]!, Buffer.from(value, 'base64'));
  }
  for (const [version, files] of up.files) {
    const models = [...files.keys()].filter((n) => n !== 'profile.json');
    if (models.length > 1) bad(`version ${version} gets ${models.length} model files; send one`);
  }
  return up;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** What was moved aside or created, to undo a failed load. */
export interface Written {
  undo(): Promise<void>;
  /** Removes the staging folder (and what was moved aside). */
  done(): Promise<void>;
}

/** Writes an upload into `<root>/<model>/`, each file by rename; returns how to undo it. */
export async function writeUpload(root: string, model: string, up: Upload): Promise<Written> {
  const dir = join(root, model);
  const stage = join(root, `.grove-upload-${randomBytes(6).toString('hex')}`);
  await mkdir(join(stage, 'new'), { recursive: true });
  await mkdir(join(stage, 'old'), { recursive: true });
  const created: string[] = []; // paths that did not exist before
  const movedAside: Array<[string, string]> = []; // [original path, backup path]
  const placed: string[] = []; // files renamed into existing folders
  const createdModelDir = !(await exists(dir));
  try {
    await mkdir(dir, { recursive: true });
    if (up.config !== null) {
      const tmp = join(stage, 'new', 'config.json');
      await writeFile(tmp, up.config);
      const target = join(dir, 'config.json');
      if (await exists(target)) {
        await rename(target, join(stage, 'old', 'config.json'));
        movedAside.push([target, join(stage, 'old', 'config.json')]);
      }
      await rename(tmp, target);
      placed.push(target);
    }
    for (const [version, files] of up.files) {
      const vdir = join(dir, version);
      const vstage = join(stage, 'new', version);
      await mkdir(vstage);
      for (const [name, bytes] of files) await writeFile(join(vstage, name), bytes);
      if (!(await exists(vdir))) {
        await rename(vstage, vdir); // a new version appears whole
        created.push(vdir);
        continue;
      }
      // An existing version: move aside the files this upload replaces (and any other model
      // file, so the folder ends with exactly one), then rename the new ones in.
      const replacing = [...files.keys()].some((n) => n !== 'profile.json');
      for (const name of await readdir(vdir)) {
        if (files.has(name) || (replacing && MODEL_FILE_NAMES.includes(name))) {
          const backup = join(stage, 'old', `${version}-${name}`);
          await rename(join(vdir, name), backup);
          movedAside.push([join(vdir, name), backup]);
        }
      }
      for (const name of files.keys()) {
        await rename(join(vstage, name), join(vdir, name));
        placed.push(join(vdir, name));
      }
    }
  } catch (err) {
    await undo();
    await rm(stage, { recursive: true, force: true });
    throw err;
  }
  async function undo(): Promise<void> {
    for (const p of placed) await rm(p, { force: true });
    for (const [orig, backup] of movedAside) await rename(backup, orig).catch(() => {});
    for (const p of created) await rm(p, { recursive: true, force: true });
    if (createdModelDir) await rm(dir, { recursive: true, force: true });
  }
  return {
    undo,
    done: () => rm(stage, { recursive: true, force: true }),
  };
}
