// Monitor settings: config.json `"monitor": {"window_rows": 1000, "min_rows": 200, "missing": 0.2,
// "psi": 0.25, "out_of_range": 0.05}` (the documented defaults: docs/monitoring.md), per model in models/{m}/config.json.
// grove adds `nonfinite` (share of +-Infinity above the training share that fires, default 0.01),
// `hysteresis` (an alarm clears when its value drops below hysteresis x threshold, default 0.8) and
// `enabled` (false turns the model's monitor off).

export interface MonitorConfig {
  window_rows: number;
  min_rows: number;
  missing: number;
  psi: number;
  out_of_range: number;
  nonfinite: number;
  hysteresis: number;
  enabled: boolean;
}

export const DEFAULT_MONITOR_CONFIG: Readonly<MonitorConfig> = Object.freeze({
  window_rows: 1000,
  min_rows: 200,
  missing: 0.2,
  psi: 0.25,
  out_of_range: 0.05,
  nonfinite: 0.01,
  hysteresis: 0.8,
  enabled: true,
});

/**
 * `obj[key]` when it is a finite number in [min, max] (and whole, with `integer`), else undefined:
 * a config.json field that is absent, of another type or out of range keeps its default.
 */
export function numberField(
  obj: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  integer = false,
): number | undefined {
  const v = Object.hasOwn(obj, key) ? obj[key] : undefined;
  return typeof v === 'number' &&
    Number.isFinite(v) &&
    v >= min &&
    v <= max &&
    (!integer || Number.isInteger(v))
    ? v
    : undefined;
}

/** Reads `raw.monitor` from a parsed config.json; bad or absent fields keep their defaults. */
export function monitorConfigFrom(raw: Record<string, unknown> | null | undefined): MonitorConfig {
  const cfg: MonitorConfig = { ...DEFAULT_MONITOR_CONFIG };
  const m = raw && Object.hasOwn(raw, 'monitor') ? raw.monitor : null;
  if (!m || typeof m !== 'object' || Array.isArray(m)) return cfg;
  const obj = m as Record<string, unknown>;
  const num = (key: Exclude<keyof MonitorConfig, 'enabled'>, min: number, max: number, integer = false) => {
    cfg[key] = numberField(obj, key, min, max, integer) ?? cfg[key];
  };
  num('window_rows', 1, 10_000_000, true);
  num('min_rows', 1, 10_000_000, true);
  num('missing', 0, 1);
  num('psi', 0, 1000);
  num('out_of_range', 0, 1);
  num('nonfinite', 0, 1);
  num('hysteresis', 0, 1);
  if (obj.enabled === false) cfg.enabled = false;
  return cfg;
}
