// Sticky version assignment: a user key hashes into one of BUCKETS buckets; each bucket goes to a
// version by weighted rendezvous hashing (Thaler & Ravishankar's highest random weight, weighted as
// in Schindelhauer & Schomaker: score = w / -ln(u(bucket, version)), the highest score wins).
// Why rendezvous rather than cumulative ranges: it is stateless (every gateway computes the same
// table from the weights alone, so gateways agree without sharing a table) and when one version's
// weight grows, only that version's scores grow, so buckets can only move *to* it: no user leaves
// the version that grew, and the number moved is exactly its gain in buckets (with two versions
// every weight change is of this kind, so movement is minimal; when several weights change at once
// movement is near, not at, the minimum). Each bucket picks
// version v with probability w_v / sum(w), so shares follow the weights.
export const BUCKETS = 10_000;

/** FNV-1a 32-bit over UTF-16 code units, then a murmur3 finalizer for avalanche. */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The bucket of a sticky key. */
export function bucketOf(key: string): number {
  return hashString(key) % BUCKETS;
}

/**
 * Bucket -> index into `versions` (Uint16Array of BUCKETS). Versions with weight 0 get no bucket.
 * Weights must be >= 0 and not all zero.
 */
export function buildBucketTable(versions: readonly string[], weights: readonly number[]): Uint16Array {
  const table = new Uint16Array(BUCKETS);
  const seeds = versions.map((v) => hashString(`grove-version:${v}`));
  for (let b = 0; b < BUCKETS; b++) {
    let best = -1;
    let bestScore = -1;
    for (let k = 0; k < versions.length; k++) {
      const w = weights[k]!;
      if (!(w > 0)) continue;
      // u in (0,1): 32 hash bits, offset by half a step so ln(u) is finite and negative.
      const u = (fmix32((seeds[k]! ^ Math.imul(b + 1, 0x9e3779b1)) >>> 0) + 0.5) / 4294967296;
      const score = w / -Math.log(u);
      if (score > bestScore) {
        bestScore = score;
        best = k;
      }
    }
    table[b] = best < 0 ? 0 : best;
  }
  return table;
}
