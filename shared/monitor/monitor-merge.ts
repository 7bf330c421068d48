// The cluster view of a version's monitor: the gateway asks every worker holding the version and
// merges their answers here. Counts add up (each worker's window is a disjoint sample of the
// traffic), so ratios and PSI are recomputed from the summed counts exactly as one worker computes
// them from its own (column-stats.ts). An alarm is listed when any worker has it firing, or when
// the merged value is past its threshold with at least min_rows merged rows; `active_alarms` gives
// each with its merged value and the earliest `since` a worker reports (null: it fires on the
// merged counts only). `window_rows` is the configured window of each worker, as a worker answers
// it; `counts.workers` says how many windows were merged.
import { type AlarmKind, alarmChecks } from './alarm-rules.js';
import { type ColumnCounts, columnStats } from './column-stats.js';
import { DEFAULT_MONITOR_CONFIG, type MonitorConfig } from './monitor-config.js';

interface WorkerAnswer {
  model_name?: unknown;
  model_version?: unknown;
  sha256?: unknown;
  window_rows?: unknown;
  min_rows?: unknown;
  profile?: unknown;
  thresholds?: Partial<MonitorConfig>;
  features?: Array<{ name: string; alarms?: unknown }>;
  prediction?: { alarms?: unknown };
  active_alarms?: Array<{ feature?: unknown; kind?: unknown; since?: unknown }>;
  counts?: { workers?: number; columns?: ColumnCounts[] };
}

function isAnswer(x: unknown): x is WorkerAnswer {
  if (!x || typeof x !== 'object') return false;
  const c = (x as WorkerAnswer).counts;
  return !!c && Array.isArray(c.columns);
}

function addInto(into: number[], from: unknown): void {
  if (!Array.isArray(from)) return;
  for (let i = 0; i < from.length; i++) {
    const v = typeof from[i] === 'number' ? (from[i] as number) : 0;
    into[i] = (into[i] ?? 0) + v;
  }
}

const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);

export function mergeMonitorResponses(responses: unknown[]): unknown {
  const answers = responses.filter(isAnswer);
  if (answers.length === 0) return null;
  const first = answers[0]!;
  const cfg: MonitorConfig = { ...DEFAULT_MONITOR_CONFIG, ...(first.thresholds ?? {}) };
  cfg.min_rows = num(first.min_rows) || cfg.min_rows;
  const merged = new Map<string, ColumnCounts>();
  const firing = new Map<string, Set<AlarmKind>>();
  /** `feature\0kind` -> the earliest time a worker says the alarm started firing. */
  const since = new Map<string, string>();
  const windowRows = num(first.window_rows);
  let rows = 0;
  let workers = 0;
  for (const a of answers) {
    workers += num(a.counts?.workers) || 1;
    rows += num(a.counts!.columns![0]?.rows);
    for (const col of a.counts!.columns!) {
      if (!col || typeof col.name !== 'string') continue;
      let m = merged.get(col.name);
      if (!m) {
        m = { ...col, rows: 0, missing: 0, nonfinite: 0, skipped: 0, codes: [] };
        merged.set(col.name, m);
      }
      m.rows += num(col.rows);
      m.missing += num(col.missing);
      m.nonfinite += num(col.nonfinite);
      m.skipped += num(col.skipped);
      addInto(m.codes, col.codes);
    }
    const noteAlarms = (name: string, alarms: unknown) => {
      if (!Array.isArray(alarms)) return;
      let set = firing.get(name);
      if (!set) firing.set(name, (set = new Set()));
      for (const k of alarms) if (typeof k === 'string') set.add(k as AlarmKind);
    };
    for (const f of a.features ?? []) noteAlarms(f.name, f.alarms);
    noteAlarms('__prediction__', a.prediction?.alarms);
    for (const x of Array.isArray(a.active_alarms) ? a.active_alarms : []) {
      if (typeof x?.feature !== 'string' || typeof x.kind !== 'string' || typeof x.since !== 'string')
        continue;
      const key = `${x.feature}\0${x.kind}`;
      const cur = since.get(key);
      if (cur === undefined || x.since < cur) since.set(key, x.since);
    }
  }
  const active: Array<{
    feature: string;
    kind: AlarmKind;
    value: number | null;
    threshold: number;
    since: string | null;
  }> = [];
  const describe = (col: ColumnCounts, inhibited = false) => {
    const s = columnStats(col);
    const alarms = new Set(firing.get(col.name) ?? []);
    const checks = alarmChecks(s, col, cfg);
    if (s.rows >= cfg.min_rows && !inhibited) {
      for (const check of checks)
        if (check.value !== null && check.value > check.threshold) alarms.add(check.kind);
    }
    for (const check of checks) {
      if (!alarms.has(check.kind)) continue;
      const at = since.get(`${col.name}\0${check.kind}`) ?? null;
      active.push({
        feature: col.name,
        kind: check.kind,
        value: check.value,
        threshold: check.threshold,
        since: at,
      });
    }
    return {
      name: col.name,
      missing_ratio: s.missing_ratio,
      out_of_range_ratio: s.out_of_range_ratio,
      nonfinite_ratio: s.nonfinite_ratio,
      psi: s.psi,
      alarms: [...alarms],
    };
  };
  const columns = [...merged.values()];
  const features = columns.filter((c) => c.name !== '__prediction__').map((c) => describe(c));
  const pred = merged.get('__prediction__');
  return {
    model_name: first.model_name,
    model_version: first.model_version,
    // Workers of one version normally hold the same file; if not, the first one's is named.
    sha256: typeof first.sha256 === 'string' ? first.sha256 : undefined,
    window_rows: windowRows,
    rows,
    min_rows: cfg.min_rows,
    profile: answers.some((a) => a.profile === true),
    thresholds: first.thresholds,
    features,
    // As on each worker (version-monitor.ts): no new output alarm while an input feature alarms.
    prediction: pred
      ? describe(
          pred,
          features.some((f) => f.alarms.length > 0),
        )
      : { name: '__prediction__', psi: null, alarms: [] },
    active_alarms: active,
    counts: { workers, columns },
  };
}
