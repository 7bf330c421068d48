// `p2c`: power of two choices (Mitzenmacher 2001; Envoy's LEAST_REQUEST with choice_count 2, the
// default here): draw two distinct workers uniformly, keep the one with fewer outstanding requests
// (the first drawn on a tie). Nearly as good as least-outstanding at avoiding a slow worker, but
// without herding every gateway onto the same "least" worker.
import type { Pickable, Policy, Rng } from './policy.js';

export class P2cPolicy implements Policy {
  readonly name = 'p2c' as const;
  pick<W extends Pickable>(workers: readonly W[], rng: Rng): W | undefined {
    const n = workers.length;
    if (n <= 1) return workers[0];
    const i = Math.min(n - 1, Math.floor(rng() * n));
    let j = Math.min(n - 2, Math.floor(rng() * (n - 1)));
    if (j >= i) j++;
    const a = workers[i]!;
    const b = workers[j]!;
    return b.outstanding < a.outstanding ? b : a;
  }
}
