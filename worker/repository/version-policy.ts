// Which versions a worker keeps live, as Triton's version_policy and TF Serving's
// model_version_policy: `"all"` (the default), `{"latest": {"num_versions": N}}` or `{"latest": N}`,
// `{"specific": {"versions": [1, 3]}}` or `{"specific": [1, 3]}`; `{"all": {}}` is `all` too.
import { ModelFormatError } from '../../shared/errors/grove-error.js';

export type VersionPolicy =
  | { kind: 'all' }
  | { kind: 'latest'; count: number }
  | { kind: 'specific'; versions: Set<number> };

function bad(msg: string): never {
  throw new ModelFormatError(`config.json "version_policy": ${msg}`, 'GROVE_ERR_BAD_CONFIG');
}

export function parseVersionPolicy(v: unknown): VersionPolicy {
  if (v === undefined || v === null || v === 'all') return { kind: 'all' };
  if (typeof v !== 'object' || Array.isArray(v)) bad('expected "all", {"latest": N} or {"specific": [..]}');
  const o = v as Record<string, unknown>;
  if (Object.hasOwn(o, 'all')) return { kind: 'all' };
  if (Object.hasOwn(o, 'latest')) {
    const l = o.latest;
    const n =
      typeof l === 'number'
        ? l
        : typeof l === 'object' && l !== null
          ? (l as Record<string, unknown>).num_versions
          : NaN;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) bad('latest needs a positive integer count');
    return { kind: 'latest', count: n };
  }
  if (Object.hasOwn(o, 'specific')) {
    const s = o.specific;
    const list = Array.isArray(s)
      ? s
      : typeof s === 'object' && s !== null
        ? (s as Record<string, unknown>).versions
        : null;
    if (!Array.isArray(list)) bad('specific needs a list of versions');
    const versions = new Set<number>();
    for (const x of list) {
      const n = typeof x === 'string' ? Number(x) : x;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
        bad(`'${String(x)}' is not a version number`);
      versions.add(n);
    }
    return { kind: 'specific', versions };
  }
  return bad('expected "all", {"latest": N} or {"specific": [..]}');
}

/** The versions (numbers, any order) the policy keeps live, highest first. */
export function liveByPolicy(policy: VersionPolicy, present: number[]): number[] {
  const sorted = [...present].sort((a, b) => b - a);
  switch (policy.kind) {
    case 'all':
      return sorted;
    case 'latest':
      return sorted.slice(0, policy.count);
    case 'specific':
      return sorted.filter((v) => policy.versions.has(v));
  }
}

/** The versions a scan found (those with a file, or a problem to report) that `policy` keeps live. */
export function liveVersionSet(
  policy: VersionPolicy,
  scanned: readonly { version: number; file: string | null; problem: string | null }[],
): Set<string> {
  const present = scanned.filter((v) => v.file !== null || v.problem !== null).map((v) => v.version);
  return new Set(liveByPolicy(policy, present).map(String));
}
