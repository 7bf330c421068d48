// A model's optional `models/<name>/config.json` (docs/architecture.md, Model repository): feature names that
// override the file's, the version policy, the default split and the monitor settings. The worker
// reads only what it uses and keeps the parsed object so other modules (monitor, gateway) can read
// theirs. A broken config.json fails the model's versions with a reason rather than guessing.
import { fileText } from '../../shared/errors/file-text.js';
import { ModelFormatError } from '../../shared/errors/grove-error.js';
import { parseVersionPolicy, type VersionPolicy } from './version-policy.js';

export interface ModelConfig {
  /** Everything config.json held ({} when there is none). */
  raw: Record<string, unknown>;
  features: string[] | null;
  policy: VersionPolicy;
}

export const DEFAULT_CONFIG: ModelConfig = { raw: {}, features: null, policy: { kind: 'all' } };

export function parseModelConfig(text: string | null): ModelConfig {
  if (text === null) return DEFAULT_CONFIG;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelFormatError(
      `config.json is not valid JSON: ${fileText((err as Error).message)}`,
      'GROVE_ERR_BAD_CONFIG',
    );
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ModelFormatError('config.json must hold a JSON object', 'GROVE_ERR_BAD_CONFIG');
  }
  const obj = raw as Record<string, unknown>;
  let features: string[] | null = null;
  if (Object.hasOwn(obj, 'features') && obj.features !== null) {
    const f = obj.features;
    if (!Array.isArray(f) || !f.every((x) => typeof x === 'string' && x.length > 0)) {
      throw new ModelFormatError(
        'config.json "features" must be an array of non-empty names',
        'GROVE_ERR_BAD_CONFIG',
      );
    }
    if (new Set(f).size !== f.length) {
      throw new ModelFormatError('config.json "features" repeats a name', 'GROVE_ERR_BAD_CONFIG');
    }
    features = f as string[];
  }
  const policy = parseVersionPolicy(Object.hasOwn(obj, 'version_policy') ? obj.version_policy : undefined);
  return { raw: obj, features, policy };
}
