// `round-robin`: each call takes the next worker in turn. The counter is the policy's own state;
// the candidate list may change between calls (workers come and go), so it is taken modulo n.
import type { Pickable, Policy, Rng } from './policy.js';

export class RoundRobinPolicy implements Policy {
  readonly name = 'round-robin' as const;
  private next = 0;
  pick<W extends Pickable>(workers: readonly W[], _rng: Rng): W | undefined {
    const n = workers.length;
    if (n === 0) return undefined;
    const w = workers[this.next % n];
    this.next = (this.next + 1) % 0x40000000;
    return w;
  }
}
