// Optional influence monitoring (off by default; docs/monitoring.md, docs/explanations.md): for a
// sample of the served rows, each feature's |contribution| (summed over margin columns) goes into
// a window of the last `window_rows` sampled rows, and a feature whose mean |contribution| moves
// away from the training profile's (`grove profile` records it) raises an `influence` alarm, with
// the same hysteresis as the other alarms.
//   influence value = |ln((window mean + e) / (profile mean + e))|, e = 1e-3 x the profile's total
//   (so features the model barely uses do not fire on noise); fires above `influence` (default
//   ln 2: the influence doubled or halved), clears below hysteresis x `influence`.
// Cost: on the request path, a countdown per request (rows between samples are skipped
// geometrically) and a copy of each sampled row into a bounded queue; contributions are computed
// when the monitor evaluates (once a second, and when read), within `budget_ms` per evaluation;
// what the budget leaves is dropped and counted. Building the model's explainer happens there
// too, once (about a microsecond per tree node).

import { numberField } from '../../shared/monitor/monitor-config.js';
import type { Explainer } from '../../shared/runtime/explain/explainer.js';
import { explainerFor } from '../../shared/runtime/explain/index.js';
import type { Model } from '../../shared/runtime/model.js';
import type { PredictionEvent } from '../observer.js';
import type { AlarmTransition } from './version-monitor.js';

export interface ContributionMonitorConfig {
  enabled: boolean;
  /** Share of served rows explained (0..1). */
  sample: number;
  window_rows: number;
  min_rows: number;
  /** Alarm threshold on |ln(window mean / profile mean)|. */
  influence: number;
  /** Time per evaluation spent computing contributions (ms). */
  budget_ms: number;
}

export const DEFAULT_CONTRIBUTION_MONITOR: Readonly<ContributionMonitorConfig> = Object.freeze({
  enabled: false,
  sample: 0.05,
  window_rows: 500,
  min_rows: 100,
  influence: Math.LN2,
  budget_ms: 5,
});

/** Sampled rows waiting for their contributions, at most. */
const PENDING_ROWS = 256;

/** `monitor.contributions` of a parsed config.json; bad or absent fields keep their defaults. */
export function contributionMonitorConfig(
  raw: Record<string, unknown> | null | undefined,
): ContributionMonitorConfig {
  const cfg: ContributionMonitorConfig = { ...DEFAULT_CONTRIBUTION_MONITOR };
  const m = raw && Object.hasOwn(raw, 'monitor') ? raw.monitor : null;
  const c =
    m && typeof m === 'object' && Object.hasOwn(m, 'contributions')
      ? (m as Record<string, unknown>).contributions
      : null;
  if (c === true) cfg.enabled = true;
  if (!c || typeof c !== 'object' || Array.isArray(c)) return cfg;
  const obj = c as Record<string, unknown>;
  const num = (
    key: Exclude<keyof ContributionMonitorConfig, 'enabled'>,
    min: number,
    max: number,
    integer = false,
  ) => {
    cfg[key] = numberField(obj, key, min, max, integer) ?? cfg[key];
  };
  num('sample', 0, 1);
  num('window_rows', 1, 1_000_000, true);
  num('min_rows', 1, 1_000_000, true);
  num('influence', 0, 100);
  num('budget_ms', 0, 1000);
  cfg.enabled = obj.enabled !== false;
  return cfg;
}

export interface ContributionTrackerInit {
  model: string;
  version: string;
  featureNames: readonly string[];
  explain: Model;
  /** The profile's mean |contribution| per feature, or null (then no alarms, only the window). */
  baseline: readonly number[] | null;
  config: ContributionMonitorConfig;
  /** The main monitor's hysteresis. */
  hysteresis: number;
  random?: () => number;
  /** Milliseconds, for the budget (performance.now). */
  clock?: () => number;
}

export class ContributionTracker {
  readonly config: ContributionMonitorConfig;
  private readonly F: number;
  private readonly names: readonly string[];
  private readonly baseline: Float64Array | null;
  private readonly floor: number;
  private readonly random: () => number;
  private readonly clock: () => number;
  private explainer: Explainer | null = null;
  /** Rows to skip before the next sampled one. */
  private skip: number;
  private readonly pending: Float64Array;
  private pendingRows = 0;
  /** Ring of |contribution| per feature, window_rows x F. */
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;
  /** Rows sampled, explained, and dropped (queue full or over the budget). */
  sampled = 0;
  explained = 0;
  dropped = 0;
  private readonly firing: Uint8Array;
  private readonly since: Float64Array;
  private readonly lastValue: Float64Array;

  constructor(private readonly init: ContributionTrackerInit) {
    this.config = init.config;
    this.F = init.featureNames.length;
    this.names = init.featureNames;
    this.random = init.random ?? Math.random;
    this.clock = init.clock ?? (() => performance.now());
    const F = this.F;
    this.baseline =
      init.baseline && init.baseline.length === F && init.baseline.every((b) => Number.isFinite(b) && b >= 0)
        ? Float64Array.from(init.baseline)
        : null;
    let total = 0;
    for (let f = 0; f < F; f++) total += this.baseline?.[f] ?? 0;
    this.floor = Math.max(1e-3 * total, 1e-12);
    this.pending = new Float64Array(PENDING_ROWS * F);
    this.ring = new Float64Array(init.config.window_rows * F);
    this.firing = new Uint8Array(F);
    this.since = new Float64Array(F);
    this.lastValue = new Float64Array(F).fill(Number.NaN);
    this.skip = this.gap();
  }

  /** Rows until the next sample: geometric with the sample rate, so each row is sampled with that probability. */
  private gap(): number {
    const p = this.config.sample;
    if (p >= 1) return 0;
    if (p <= 0) return Number.POSITIVE_INFINITY;
    return Math.floor(Math.log(1 - this.random()) / Math.log(1 - p));
  }

  /** Request path: copies the sampled rows of a prediction into the queue. */
  observe(e: PredictionEvent): void {
    const F = this.F;
    if (e.input === null || e.numFeatures !== F) return;
    let r = this.skip;
    while (r < e.rows) {
      this.sampled++;
      if (this.pendingRows < PENDING_ROWS) {
        this.pending.set(e.input.subarray(r * F, (r + 1) * F), this.pendingRows * F);
        this.pendingRows++;
      } else this.dropped++;
      r += 1 + this.gap();
    }
    this.skip = r - e.rows;
  }

  /** Explains queued rows within the time budget; the rest is dropped. */
  drain(): void {
    if (this.pendingRows === 0) return;
    this.explainer ??= explainerFor(this.init.explain);
    const t0 = this.clock();
    const e = this.explainer;
    const F = this.F;
    const K = e.numGroups;
    const out = new Float64Array(e.width);
    let i = 0;
    for (; i < this.pendingRows; i++) {
      if (i > 0 && this.clock() - t0 >= this.config.budget_ms) break;
      e.contributions(this.pending.subarray(i * F, (i + 1) * F), 1, out);
      const at = this.next * F;
      for (let f = 0; f < F; f++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += Math.abs(out[k * (F + 1) + f]!);
        this.ring[at + f] = s;
      }
      this.next = (this.next + 1) % this.config.window_rows;
      if (this.filled < this.config.window_rows) this.filled++;
      this.explained++;
    }
    this.dropped += this.pendingRows - i;
    this.pendingRows = 0;
  }

  /** Mean |contribution| per feature over the window. */
  means(): Float64Array {
    const F = this.F;
    const m = new Float64Array(F);
    for (let r = 0; r < this.filled; r++) for (let f = 0; f < F; f++) m[f]! += this.ring[r * F + f]!;
    if (this.filled > 0) for (let f = 0; f < F; f++) m[f]! /= this.filled;
    return m;
  }

  private value(mean: number, f: number): number {
    return Math.abs(Math.log((mean + this.floor) / (this.baseline![f]! + this.floor)));
  }

  /** Explains what is queued, then applies the influence alarm; returns the transitions. */
  evaluate(now: number): AlarmTransition[] {
    this.drain();
    if (!this.baseline || this.filled < this.config.min_rows) return [];
    const means = this.means();
    const threshold = this.config.influence;
    const out: AlarmTransition[] = [];
    for (let f = 0; f < this.F; f++) {
      const v = this.value(means[f]!, f);
      this.lastValue[f] = v;
      const was = this.firing[f] === 1;
      const is = was ? !(v < this.init.hysteresis * threshold) : v > threshold;
      if (is === was) continue;
      this.firing[f] = is ? 1 : 0;
      if (is) this.since[f] = now;
      out.push({
        model: this.init.model,
        version: this.init.version,
        feature: this.names[f]!,
        kind: 'influence',
        value: v,
        threshold,
        state: is ? 'firing' : 'resolved',
        at: new Date(now).toISOString(),
      });
    }
    return out;
  }

  isFiring(f: number): boolean {
    return this.firing[f] === 1;
  }

  /** The monitor endpoint's `contributions` part. */
  response(): Record<string, unknown> {
    const means = this.means();
    return {
      window_rows: this.config.window_rows,
      rows: this.filled,
      sample: this.config.sample,
      sampled: this.sampled,
      explained: this.explained,
      dropped: this.dropped,
      baseline: this.baseline !== null,
      threshold: this.config.influence,
      features: this.names.map((name, f) => ({
        name,
        mean_abs_contribution: this.filled > 0 ? means[f]! : null,
        baseline: this.baseline ? this.baseline[f]! : null,
        influence: this.baseline && this.filled > 0 ? this.value(means[f]!, f) : null,
        alarms: this.firing[f] === 1 ? ['influence'] : [],
      })),
    };
  }
}
