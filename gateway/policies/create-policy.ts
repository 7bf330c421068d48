// Policy factory by name (the `--policy` flag).
import { LeastOutstandingPolicy } from './least-outstanding.js';
import { P2cPolicy } from './p2c.js';
import type { Policy, PolicyName } from './policy.js';
import { RandomPolicy } from './random.js';
import { RoundRobinPolicy } from './round-robin.js';

export function createPolicy(name: PolicyName): Policy {
  switch (name) {
    case 'random':
      return new RandomPolicy();
    case 'round-robin':
      return new RoundRobinPolicy();
    case 'least-outstanding':
      return new LeastOutstandingPolicy();
    case 'p2c':
      return new P2cPolicy();
  }
}
