// Column statistics from raw, mergeable counts: the same function serves one worker's window
// (version-monitor.ts) and the sum of several workers' windows (monitor-merge.ts), so the cluster view is
// computed exactly as a single worker's would be over the union of their rows.
import { psiFromCounts } from '../profile/psi.js';

/** The mergeable counts of one column (a feature, or `__prediction__`) over a window. */
export interface ColumnCounts {
  name: string;
  type: 'numeric' | 'categorical' | 'none';
  /** Rows in the window. */
  rows: number;
  missing: number;
  nonfinite: number;
  /** Rows that did not count for this column (raw-margin outputs). */
  skipped: number;
  /** Counts per code: numeric k bins then below-min, above-max; categorical V values then unseen. */
  codes: number[];
  /** The profile's shares per bin (numeric k, categorical V), or null without a profile. */
  expected: number[] | null;
  baseline_missing: number;
  baseline_nonfinite: number;
}

export interface ColumnStats {
  name: string;
  rows: number;
  missing_ratio: number;
  nonfinite_ratio: number;
  /** Share of present, finite values outside the training range (or unseen categories); null without a profile. */
  out_of_range_ratio: number | null;
  /** PSI of the present, finite values against the profile; null without a profile or values. */
  psi: number | null;
}

export function columnStats(col: ColumnCounts): ColumnStats {
  const rows = col.rows - col.skipped;
  const stats: ColumnStats = {
    name: col.name,
    rows,
    missing_ratio: rows > 0 ? col.missing / rows : 0,
    nonfinite_ratio: rows > 0 ? col.nonfinite / rows : 0,
    out_of_range_ratio: null,
    psi: null,
  };
  if (col.type === 'none' || !col.expected) return stats;
  const present = rows - col.missing - col.nonfinite;
  const codes = col.codes;
  if (col.type === 'numeric') {
    const k = col.expected.length;
    const outside = (codes[k] ?? 0) + (codes[k + 1] ?? 0);
    stats.out_of_range_ratio = present > 0 ? outside / present : 0;
    if (present > 0) {
      // Outer bins are open-ended: below-min values belong to bin 0, above-max to bin k-1.
      const folded = codes.slice(0, k);
      folded[0]! += codes[k] ?? 0;
      folded[k - 1]! += codes[k + 1] ?? 0;
      stats.psi = psiFromCounts(col.expected, folded, present);
    }
  } else {
    const v = col.expected.length;
    stats.out_of_range_ratio = present > 0 ? (codes[v] ?? 0) / present : 0;
    if (present > 0) stats.psi = psiFromCounts([...col.expected, 0], codes.slice(0, v + 1), present);
  }
  return stats;
}
