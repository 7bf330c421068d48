// A model's A/B split (docs/ab-testing.md, Splitting traffic): `{"weights": {"1": 90, "2": 10},
// "sticky": "x-user-id", "shadow": {"version": "3", "fraction": 0.1}}`. Validation is strict
// (weights finite >= 0, not all zero, versions must exist on some worker) and nothing a client
// sends reaches a prototype: weights are copied into null-prototype objects.
import { BadInputError } from '../../shared/errors/grove-error.js';
import type { Rng } from '../policies/policy.js';
import { BUCKETS, bucketOf, buildBucketTable } from './bucket-table.js';

export interface SplitConfig {
  weights: Record<string, number>;
  sticky?: string;
  shadow?: { version: string; fraction: number };
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

/** Validates a split body. `exists(v)` says whether some worker holds version v (skip with null). */
export function parseSplit(body: unknown, exists: ((version: string) => boolean) | null): SplitConfig {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new BadInputError('split must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (k !== 'weights' && k !== 'sticky' && k !== 'shadow')
      throw new BadInputError(`unknown split field '${k}'`);
  }
  const w = b.weights;
  if (!w || typeof w !== 'object' || Array.isArray(w))
    throw new BadInputError('split.weights must be an object of version -> weight');
  const weights: Record<string, number> = Object.create(null);
  let total = 0;
  for (const [v, x] of Object.entries(w as Record<string, unknown>)) {
    if (!/^[0-9]{1,18}$/.test(v)) throw new BadInputError(`split version '${v}' is not a version number`);
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0)
      throw new BadInputError(`split weight of version '${v}' must be a finite number >= 0`);
    if (exists && !exists(v)) throw new BadInputError(`version '${v}' is not live on any worker`);
    weights[v] = x;
    total += x;
  }
  if (!(total > 0)) throw new BadInputError('split weights must not all be zero');
  const out: SplitConfig = { weights };
  if (b.sticky !== undefined && b.sticky !== null) {
    if (typeof b.sticky !== 'string' || !HEADER_NAME.test(b.sticky))
      throw new BadInputError('split.sticky must be a header name');
    out.sticky = b.sticky.toLowerCase();
  }
  if (b.shadow !== undefined && b.shadow !== null) {
    const s = b.shadow as Record<string, unknown>;
    if (typeof s !== 'object' || Array.isArray(s)) throw new BadInputError('split.shadow must be an object');
    const version = typeof s.version === 'number' ? String(s.version) : s.version;
    if (typeof version !== 'string' || !/^[0-9]{1,18}$/.test(version))
      throw new BadInputError('split.shadow.version must be a version number');
    const fraction = s.fraction ?? 1;
    if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1))
      throw new BadInputError('split.shadow.fraction must be in [0, 1]');
    if (exists && !exists(version))
      throw new BadInputError(`shadow version '${version}' is not live on any worker`);
    out.shadow = { version, fraction };
  }
  return out;
}

/** A split compiled for the request path: cumulative weights for random draws, a bucket table for sticky keys. */
export class CompiledSplit {
  readonly config: SplitConfig;
  readonly versions: string[];
  private readonly cum: Float64Array;
  private table: Uint16Array | null = null;

  constructor(config: SplitConfig) {
    this.config = config;
    // Stable order (numeric) so every gateway builds the same table.
    this.versions = Object.keys(config.weights).sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : 1));
    this.cum = new Float64Array(this.versions.length);
    let acc = 0;
    for (let i = 0; i < this.versions.length; i++) this.cum[i] = acc += config.weights[this.versions[i]!]!;
  }

  get sticky(): string | undefined {
    return this.config.sticky;
  }

  /** The version for a request: sticky key -> bucket table; otherwise a weighted draw. */
  choose(stickyKey: string | undefined, rng: Rng, usable: (v: string) => boolean): string | undefined {
    let v: string;
    if (stickyKey !== undefined && stickyKey !== '') {
      this.table ??= buildBucketTable(
        this.versions,
        this.versions.map((x) => this.config.weights[x]!),
      );
      v = this.versions[this.table[bucketOf(stickyKey) % BUCKETS]!]!;
    } else {
      v = this.draw(rng() * this.cum[this.cum.length - 1]!);
    }
    if (usable(v)) return v;
    // The drawn version has no usable worker: serve another weighted version rather than fail.
    let total = 0;
    for (let i = 0; i < this.versions.length; i++) {
      if (usable(this.versions[i]!)) total += this.config.weights[this.versions[i]!]!;
    }
    if (total <= 0) return undefined;
    let r = rng() * total;
    for (const x of this.versions) {
      if (!usable(x)) continue;
      r -= this.config.weights[x]!;
      if (r < 0) return x;
    }
    return undefined;
  }

  private draw(r: number): string {
    const c = this.cum;
    for (let i = 0; i < c.length; i++) if (r < c[i]!) return this.versions[i]!;
    return this.versions[c.length - 1]!;
  }
}
