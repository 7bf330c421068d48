// What one scenario of the suite produced: its load report (or why it was skipped) and, for the
// scenarios with a hard expectation (zero failed requests), whether it held.
import type { LoadReport } from '../load-recorder.js';

export interface ScenarioResult {
  /** Scenario family: peers, policies, split, hot-swap, worker-killed. */
  group: string;
  name: string;
  description: string;
  /** The `grove loadtest` invocation that reproduces the measured load against the same target. */
  command: string;
  report: LoadReport | null;
  /** Why the scenario did not run (e.g. nginx not installed). */
  skipped?: string;
  expectation?: string;
  passed?: boolean;
  /** Extra observations (respawn time, swap time, shares). */
  notes?: string[];
  /** The same observations as numbers, for results.json readers and charts (e.g. slow_worker_share, respawn_ms). */
  metrics?: Record<string, number>;
}

export interface SuiteSettings {
  /** Seconds per load run. */
  durationS: number;
  /** Unrecorded warm-up before each measured run, seconds (0 = none). */
  warmupS: number;
  connections: number;
  /** Fixed rate for the policy scenario (requests/s); NaN = derived from the peers scenario. */
  policyRate: number;
  /** Added latency of the slow worker, ms. */
  slowDelayMs: number;
  models: string;
  /** Only scenario groups whose name is listed (empty = all). */
  only: string[];
}
