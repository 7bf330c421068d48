// Single-model mode (`grove worker --model-name NAME --model-dir DIR`, docs/kubernetes.md): the
// repository is one model file, served as model NAME version 1. This is the layout model servers
// get from KServe's storage initializer, which downloads a model's storageUri into /mnt/models with
// the file names the user saved (`model.bst`, `model.joblib`, ...), or a Triton-style `1/` folder.
// The model file is found in DIR, else in DIR/1; grove detects the format from the bytes, so the
// name only has to look like a model file. The scan returns what scanRepository returns, so the
// repository loads, probes, swaps and drains it exactly as any other version.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_FILE_NAMES, type ScannedModel, type ScannedVersion, scanVersion } from './scan-repository.js';

/** Names that look like a saved model (KServe's runtimes save model.bst, model.joblib, model.pkl ...). */
const MODEL_EXTENSION = /\.(json|ubj|txt|bst|model|joblib|pkl|pickle|grove)$/i;
/** grove's companions of a model file, and text files that travel with models, never the model. */
const COMPANIONS = new Set(['config.json', 'profile.json']);
const NOT_MODELS = /^(requirements|readme|license|notice|changelog)[._-]/i;

async function candidates(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isFile() || d.isSymbolicLink())
      .map((d) => d.name);
  } catch {
    return [];
  }
  const exact = names.filter((n) => MODEL_FILE_NAMES.includes(n));
  if (exact.length > 0) return exact.sort();
  return names
    .filter((n) => !n.startsWith('.') && !COMPANIONS.has(n) && !NOT_MODELS.test(n) && MODEL_EXTENSION.test(n))
    .sort();
}

async function scanIn(dir: string, names: string[]): Promise<ScannedVersion> {
  if (names.length === 1) return scanVersion(1, dir, names[0]);
  const v = await scanVersion(1, dir, null);
  return {
    ...v,
    problem: `the model folder holds ${names.length} model files (${names.join(', ')}); keep exactly one`,
  };
}

export async function scanSingleModel(root: string, name: string): Promise<ScannedModel[]> {
  let configText: string | null = null;
  try {
    configText = await readFile(join(root, 'config.json'), 'utf8');
  } catch {
    configText = null;
  }
  let dir = root;
  let names = await candidates(root);
  if (names.length === 0) {
    dir = join(root, '1');
    names = await candidates(dir);
  }
  // No file yet is a version with no file: not READY, and the worker is not ready either.
  const version = names.length === 0 ? await scanVersion(1, dir, null) : await scanIn(dir, names);
  return [{ name, dir: root, configText, versions: [version] }];
}
