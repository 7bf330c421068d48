// Worker-selection policies (gateway/README.md, Request path): given the healthy workers that hold
// the chosen model version, pick one. Randomness is injected (`rng() in [0,1)`) so unit tests can
// enumerate it and check distributions exactly.
export type Rng = () => number;

/** What a policy sees of a worker. */
export interface Pickable {
  /** Requests (rows) sent to the worker and not answered yet. */
  outstanding: number;
  /** Peak-EWMA of the worker's answer time in ms (absent: treated as equal for all workers). */
  latencyMs?: number;
}

export interface Policy {
  readonly name: PolicyName;
  /** A worker from `workers` (non-empty), or undefined when it is empty. */
  pick<W extends Pickable>(workers: readonly W[], rng: Rng): W | undefined;
}

export const POLICY_NAMES = ['random', 'round-robin', 'least-outstanding', 'p2c'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export function isPolicyName(s: string): s is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(s);
}
