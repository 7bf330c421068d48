// `p2c`: power of two choices (Mitzenmacher 2001; Envoy's LEAST_REQUEST with choice_count 2, the
// default here): draw two distinct workers uniformly, keep the less loaded (the first drawn on a
// tie). Load is Finagle's/Linkerd's "peak EWMA" cost: (outstanding + 1) x the worker's latency
// estimate. Outstanding alone balances queue lengths, so a 10x slower worker still holds a
// queue as long as the others' and its requests wait 10x longer (in a closed loop p99 only halves
// against random); weighting by latency keeps its queue ~10x shorter. With equal (or unknown)
// latencies this is plain least-outstanding p2c.
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
    return (b.outstanding + 1) * (b.latencyMs ?? 1) < (a.outstanding + 1) * (a.latencyMs ?? 1) ? b : a;
  }
}
