// `random`: uniform choice. The baseline the p2c target is measured against (docs/architecture.md, Targets).
import type { Pickable, Policy, Rng } from './policy.js';

export class RandomPolicy implements Policy {
  readonly name = 'random' as const;
  pick<W extends Pickable>(workers: readonly W[], rng: Rng): W | undefined {
    const n = workers.length;
    if (n === 0) return undefined;
    return workers[Math.min(n - 1, Math.floor(rng() * n))];
  }
}
