// Reading and checking profile.json (written by `grove profile`, kept as models/{m}/{v}/profile.json).
// A malformed profile must not stop a version from serving: callers log and serve unwatched.
import { readFile } from 'node:fs/promises';
import { ModelFormatError } from '../errors/grove-error.js';
import type { Profile } from './profile-types.js';

export function parseProfile(text: string): Profile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ModelFormatError('profile.json is not valid JSON', 'GROVE_ERR_PROFILE');
  }
  const p = doc as Profile;
  if (!p || typeof p !== 'object' || p.format !== 'grove-profile' || !Array.isArray(p.features)) {
    throw new ModelFormatError(
      "profile.json is not a grove profile (format 'grove-profile')",
      'GROVE_ERR_PROFILE',
    );
  }
  for (const f of p.features) {
    if (typeof f?.name !== 'string' || (f.type !== 'numeric' && f.type !== 'categorical')) {
      throw new ModelFormatError('profile.json has a malformed feature entry', 'GROVE_ERR_PROFILE');
    }
    const len = f.type === 'numeric' ? f.edges.length + 1 : f.values.length;
    if (!Array.isArray(f.shares) || f.shares.length !== len) {
      throw new ModelFormatError(
        `profile.json: feature '${f.name}' has ${f.shares?.length} shares for ${len} bins`,
        'GROVE_ERR_PROFILE',
      );
    }
  }
  return p;
}

/** The profile at `path`, or null when there is none. Throws ModelFormatError when it is malformed. */
export async function readProfile(path: string): Promise<Profile | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return parseProfile(text);
}
