// One model version's monitor: feeds each prediction's rows into its WindowCounts (the only work
// done per request), and on read turns the counts into statistics, alarm transitions (with
// hysteresis) and the monitor endpoint's JSON. Rows whose arrays the worker never reuses (a
// streamed batch's chunks) are binned when the window is read, not when they arrive: only the
// last `window` rows can be in it then, so a job of a million rows bins a window per read instead
// of every row, with the same counts (docs/monitoring.md).

import {
  ALARM_KINDS,
  type AlarmKind,
  alarmChecks,
  nextAlarmState,
} from '../../shared/monitor/alarm-rules.js';
import { type ColumnCounts, type ColumnStats, columnStats } from '../../shared/monitor/column-stats.js';
import type { MonitorConfig } from '../../shared/monitor/monitor-config.js';
import type { Profile } from '../../shared/profile/profile-types.js';
import { PREDICTION_FEATURE } from '../../shared/profile/profile-types.js';
import type { PredictionEvent } from '../observer.js';
import { type ColumnSpec, KIND_CATEGORICAL, KIND_NONE, KIND_NUMERIC, WindowCounts } from './window-counts.js';

export interface AlarmTransition {
  model: string;
  version: string;
  feature: string;
  /** The window alarms, or `influence` (contribution-tracker.ts). */
  kind: AlarmKind | 'influence';
  value: number;
  threshold: number;
  state: 'firing' | 'resolved';
  at: string;
}

export interface ActiveAlarm {
  feature: string;
  kind: AlarmKind;
  value: number;
  threshold: number;
  since: string;
}

export interface VersionMonitorInit {
  model: string;
  version: string;
  sha256: string;
  featureNames: readonly string[];
  profile: Profile | null;
  config: MonitorConfig;
  /** Output column watched when there is no profile (ignored with one: the profile says). */
  outputIndex: number;
}

export interface MonitorSnapshot {
  rows: number;
  columns: ColumnCounts[];
  stats: ColumnStats[];
}

const NONE_SPEC: ColumnSpec = {
  kind: KIND_NONE,
  edges: new Float64Array(0),
  min: Number.NaN,
  max: Number.NaN,
};

export class VersionMonitor {
  readonly model: string;
  readonly version: string;
  readonly sha256: string;
  readonly config: MonitorConfig;
  readonly hasProfile: boolean;
  /** Feature names, then `__prediction__`. */
  readonly names: string[];
  private readonly numFeatures: number;
  private readonly outputIndex: number;
  private readonly window: WindowCounts;
  private readonly expected: (number[] | null)[];
  private readonly baselineMissing: Float64Array;
  private readonly baselineNonfinite: Float64Array;
  private readonly types: ColumnCounts['type'][];
  /** firing[c * 4 + k], since[c * 4 + k] (epoch ms). */
  private readonly firing: Uint8Array;
  private readonly since: Float64Array;
  private readonly lastValue: Float64Array;
  private readonly lastThreshold: Float64Array;
  /** Retainable observations not binned yet, oldest first (see `observe`). */
  private readonly pending: Pending[] = [];
  private pendingRows = 0;
  private observed = 0;

  constructor(init: VersionMonitorInit) {
    this.model = init.model;
    this.version = init.version;
    this.sha256 = init.sha256;
    this.config = init.config;
    this.hasProfile = init.profile !== null;
    this.numFeatures = init.featureNames.length;
    this.names = [...init.featureNames, PREDICTION_FEATURE];
    const byName = new Map((init.profile?.features ?? []).map((f) => [f.name, f]));
    const specs: ColumnSpec[] = [];
    this.expected = [];
    this.types = [];
    const C = this.names.length;
    this.baselineMissing = new Float64Array(C);
    this.baselineNonfinite = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      const p = c < this.numFeatures ? byName.get(this.names[c]!) : (init.profile?.prediction ?? undefined);
      if (!p || (p.type === 'numeric' && !(p.min <= p.max))) {
        specs.push(NONE_SPEC);
        this.expected.push(null);
        this.types.push('none');
        continue;
      }
      this.baselineMissing[c] = p.missing_ratio || 0;
      this.baselineNonfinite[c] = p.nonfinite_ratio || 0;
      this.expected.push([...p.shares]);
      if (p.type === 'numeric') {
        specs.push({ kind: KIND_NUMERIC, edges: Float64Array.from(p.edges), min: p.min, max: p.max });
        this.types.push('numeric');
      } else {
        specs.push({ kind: KIND_CATEGORICAL, edges: Float64Array.from(p.values), min: p.min, max: p.max });
        this.types.push('categorical');
      }
    }
    this.outputIndex = init.profile?.prediction?.output_index ?? init.outputIndex;
    this.window = new WindowCounts(specs, init.config.window_rows);
    this.firing = new Uint8Array(C * 4);
    this.since = new Float64Array(C * 4);
    this.lastValue = new Float64Array(C * 4);
    this.lastThreshold = new Float64Array(C * 4);
  }

  /**
   * The request-path part: bin codes into the window. A retainable event (its arrays are never
   * reused) is kept and binned on the next read instead; events the window has since moved past
   * are let go unbinned. Anything else is binned now, after what is kept, so rows keep their order.
   */
  observe(e: PredictionEvent): void {
    const F = this.numFeatures;
    const input = e.input !== null && e.numFeatures === F ? e.input : null;
    const K = e.numOutputs;
    const k = this.outputIndex < K ? this.outputIndex : 0;
    const out = e.raw || K === 0 ? null : e.output;
    this.observed += e.rows;
    if (e.retainable !== true) {
      this.bin();
      this.add(input, out, K, k, e.rows);
      return;
    }
    if (e.rows === 0) return;
    const W = this.window.window;
    this.pending.push({ input, out, K, k, rows: e.rows });
    this.pendingRows += e.rows;
    // Only the last W rows can be in the window: events wholly before them are counted, not kept.
    while (this.pendingRows - this.pending[0]!.rows >= W) {
      const dropped = this.pending.shift()!;
      this.pendingRows -= dropped.rows;
      this.window.skipRows(dropped.rows);
    }
  }

  /** Bins the kept events' rows (those still in the window's reach). */
  private bin(): void {
    const p = this.pending;
    if (p.length === 0) return;
    let excess = this.pendingRows - this.window.window;
    for (let i = 0; i < p.length; i++) {
      const e = p[i]!;
      const first = excess > 0 ? Math.min(excess, e.rows) : 0;
      excess -= first;
      this.window.skipRows(first);
      this.window.addRows(e.input, this.numFeatures, e.out, e.K, e.k, first, e.rows);
    }
    p.length = 0;
    this.pendingRows = 0;
  }

  private add(
    input: Float64Array | null,
    out: Float64Array | null,
    K: number,
    k: number,
    rows: number,
  ): void {
    const w = this.window;
    // Only the last `window` rows of a big batch can stay in the window: adding the earlier ones
    // would cost time (on the event loop) for nothing. The result is identical.
    const first = rows > w.window ? rows - w.window : 0;
    w.skipRows(first);
    w.addRows(input, this.numFeatures, out, K, k, first, rows);
  }

  /** Rows ever observed (changes whenever observe ran). */
  get totalRows(): number {
    return this.observed;
  }

  snapshot(): MonitorSnapshot {
    this.bin();
    const w = this.window;
    const columns: ColumnCounts[] = this.names.map((name, c) => ({
      name,
      type: this.types[c]!,
      rows: w.filled,
      missing: w.missing[c]!,
      nonfinite: w.nonfinite[c]!,
      skipped: w.skipped[c]!,
      codes: Array.from(w.columnCounts(c)),
      expected: this.expected[c]!,
      baseline_missing: this.baselineMissing[c]!,
      baseline_nonfinite: this.baselineNonfinite[c]!,
    }));
    return { rows: w.filled, columns, stats: columns.map(columnStats) };
  }

  /** Applies the alarm rules to the current window; returns the alarms that changed state. */
  evaluate(now: number, snap = this.snapshot()): AlarmTransition[] {
    const changes: AlarmTransition[] = [];
    const F = this.numFeatures;
    let inputFiring = false;
    for (let c = 0; c < snap.columns.length; c++) {
      const checks = alarmChecks(snap.stats[c]!, snap.columns[c]!, this.config);
      if (c === F) for (let i = 0; i < F * 4; i++) if (this.firing[i] === 1) inputFiring = true;
      for (let k = 0; k < checks.length; k++) {
        const check = checks[k]!;
        const i = c * 4 + k;
        const was = this.firing[i] === 1;
        let is = nextAlarmState(was, check, snap.stats[c]!.rows, this.config);
        // Inhibition (as Alertmanager's inhibit_rules): the output's distribution moving while an
        // input feature is already alarming is a symptom of that cause, so `__prediction__` does
        // not start firing then; its PSI is still reported (endpoint, grove_monitor_psi).
        if (c === F && !was && is && inputFiring) is = false;
        if (check.value !== null) this.lastValue[i] = check.value;
        this.lastThreshold[i] = check.threshold;
        if (is === was) continue;
        this.firing[i] = is ? 1 : 0;
        if (is) this.since[i] = now;
        changes.push({
          model: this.model,
          version: this.version,
          feature: this.names[c]!,
          kind: check.kind,
          value: check.value ?? Number.NaN,
          threshold: check.threshold,
          state: is ? 'firing' : 'resolved',
          at: new Date(now).toISOString(),
        });
      }
    }
    return changes;
  }

  isFiring(c: number, kind: AlarmKind): boolean {
    return this.firing[c * 4 + ALARM_KINDS.indexOf(kind)] === 1;
  }

  activeAlarms(): ActiveAlarm[] {
    const out: ActiveAlarm[] = [];
    for (let i = 0; i < this.firing.length; i++) {
      if (this.firing[i] !== 1) continue;
      out.push({
        feature: this.names[Math.floor(i / 4)]!,
        kind: ALARM_KINDS[i % 4]!,
        value: this.lastValue[i]!,
        threshold: this.lastThreshold[i]!,
        since: new Date(this.since[i]!).toISOString(),
      });
    }
    return out;
  }

  /** The monitor endpoint's body (docs/monitoring.md) plus the raw counts the gateway merges. */
  response(snap = this.snapshot()): Record<string, unknown> {
    const F = this.numFeatures;
    const kindsOf = (c: number) => ALARM_KINDS.filter((_, k) => this.firing[c * 4 + k] === 1);
    const feature = (s: ColumnStats, c: number) => ({
      name: s.name,
      missing_ratio: s.missing_ratio,
      out_of_range_ratio: s.out_of_range_ratio,
      nonfinite_ratio: s.nonfinite_ratio,
      psi: s.psi,
      alarms: kindsOf(c),
    });
    const pred = snap.stats[F]!;
    return {
      model_name: this.model,
      model_version: this.version,
      sha256: this.sha256,
      window_rows: this.config.window_rows,
      rows: snap.rows,
      min_rows: this.config.min_rows,
      profile: this.hasProfile,
      thresholds: {
        missing: this.config.missing,
        psi: this.config.psi,
        out_of_range: this.config.out_of_range,
        nonfinite: this.config.nonfinite,
        hysteresis: this.config.hysteresis,
      },
      features: snap.stats.slice(0, F).map(feature),
      prediction: { ...feature(pred, F), name: PREDICTION_FEATURE },
      active_alarms: this.activeAlarms(),
      counts: { workers: 1, columns: snap.columns },
    };
  }
}

/** A retainable observation waiting to be binned. */
interface Pending {
  input: Float64Array | null;
  out: Float64Array | null;
  K: number;
  k: number;
  rows: number;
}
