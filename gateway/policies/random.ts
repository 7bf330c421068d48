// `random`: uniform choice. The baseline p2c is measured against (npm run bench:gateway).
import type { Pickable, Policy, Rng } from './policy.js';

export class RandomPolicy implements Policy {
  readonly name = 'random' as const;
  pick<W extends Pickable>(workers: readonly W[], rng: Rng): W | undefined {
    const n = workers.length;
    if (n === 0) return undefined;
    return workers[Math.min(n - 1, Math.floor(rng() * n))];
  }
}
