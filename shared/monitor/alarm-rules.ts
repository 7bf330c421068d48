// Alarm rules with hysteresis (docs/monitoring.md, Live monitor): an alarm fires when its value exceeds the
// threshold and the window holds at least min_rows rows; it clears only when the value falls below
// hysteresis x threshold (default 80%), so a value hovering at the threshold does not flap.
//   missing:      missing ratio > profile's missing ratio + `missing` (baseline 0 without profile)
//   nonfinite:    +-Infinity ratio > profile's ratio + `nonfinite`
//   out_of_range: share of values outside the training range / unseen categories > `out_of_range`
//   drift:        PSI against the profile > `psi`
import type { ColumnCounts, ColumnStats } from './column-stats.js';
import type { MonitorConfig } from './monitor-config.js';

export type AlarmKind = 'missing' | 'drift' | 'out_of_range' | 'nonfinite';
export const ALARM_KINDS: readonly AlarmKind[] = ['missing', 'drift', 'out_of_range', 'nonfinite'];

export interface AlarmCheck {
  kind: AlarmKind;
  value: number | null;
  threshold: number;
}

/** The checks of one column: value and threshold per kind (value null = cannot be judged). */
export function alarmChecks(stats: ColumnStats, col: ColumnCounts, cfg: MonitorConfig): AlarmCheck[] {
  return [
    {
      kind: 'missing',
      value: stats.missing_ratio,
      threshold: Math.min(1, col.baseline_missing + cfg.missing),
    },
    { kind: 'drift', value: stats.psi, threshold: cfg.psi },
    { kind: 'out_of_range', value: stats.out_of_range_ratio, threshold: cfg.out_of_range },
    {
      kind: 'nonfinite',
      value: stats.nonfinite_ratio,
      threshold: Math.min(1, col.baseline_nonfinite + cfg.nonfinite),
    },
  ];
}

/** Next state of one alarm: true = firing. */
export function nextAlarmState(
  firing: boolean,
  check: AlarmCheck,
  rows: number,
  cfg: MonitorConfig,
): boolean {
  const v = check.value;
  if (v === null || Number.isNaN(v)) return firing;
  if (!firing) return rows >= cfg.min_rows && v > check.threshold;
  const clearBelow = cfg.hysteresis * check.threshold;
  return !(v < clearBelow || (check.threshold === 0 && v === 0));
}
