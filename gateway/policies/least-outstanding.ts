// `least-outstanding`: the worker with the fewest requests in flight; ties broken uniformly at
// random (always taking the first would herd every idle-time request onto one worker).
import type { Pickable, Policy, Rng } from './policy.js';

export class LeastOutstandingPolicy implements Policy {
  readonly name = 'least-outstanding' as const;
  pick<W extends Pickable>(workers: readonly W[], rng: Rng): W | undefined {
    const n = workers.length;
    if (n === 0) return undefined;
    let min = Infinity;
    let ties = 0;
    for (let i = 0; i < n; i++) {
      const o = workers[i]!.outstanding;
      if (o < min) {
        min = o;
        ties = 1;
      } else if (o === min) ties++;
    }
    let k = Math.min(ties - 1, Math.floor(rng() * ties));
    for (let i = 0; i < n; i++) {
      if (workers[i]!.outstanding === min && k-- === 0) return workers[i];
    }
    return undefined;
  }
}
