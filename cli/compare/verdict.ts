// The promotion rule. Default (docs/ab-testing.md): reject when the candidate's primary metric is worse than
// the current model's by more than --max-regression (absolute, in the metric's own units), or when a
// feature the current model uses is missing from the candidate's inputs (callers would send it and
// the candidate would silently ignore it). Optional: --max-mean-diff rejects a candidate whose
// predictions move more than that on average. A gate never promotes what it did not evaluate:
// without labels the verdict is `not_evaluated` (exit 2) unless the caller asked for --diff-only,
// gating on the prediction differences alone (docs/ab-testing.md, Comparing before promoting).
import type { Interval } from '../metrics-eval/bootstrap.js';

export interface VerdictRule {
  metric: string | null;
  maxRegression: number;
  maxMeanDiff: number | null;
  /** Reject on missing used features (default true). */
  requireFeatures: boolean;
  /** Without labels, gate on prediction differences (maxMeanDiff) instead of giving no verdict. */
  diffOnly?: boolean;
}

export type Verdict = 'promote' | 'reject' | 'not_evaluated';

export const HIGHER_BETTER = new Set(['auc', 'accuracy']);

export function decideVerdict(input: {
  rule: VerdictRule;
  primary: string | null;
  current: Record<string, Interval> | null;
  candidate: Record<string, Interval> | null;
  missingFeatures: string[];
  meanAbsDiff: number;
  nonfinite?: { current: number; candidate: number };
}): { verdict: Verdict; reasons: string[] } {
  const reasons: string[] = [];
  let reject = false;
  let evaluated = true;
  const { rule, primary } = input;
  if (primary && input.current && input.candidate) {
    const c = input.current[primary]!.value;
    const n = input.candidate[primary]!.value;
    const worse = HIGHER_BETTER.has(primary) ? c - n : n - c;
    if (!(worse <= rule.maxRegression)) {
      reject = true;
      reasons.push(
        `${primary} is worse by ${fmt(worse)} (current ${fmt(c)}, candidate ${fmt(n)}); allowed regression ${rule.maxRegression}`,
      );
    } else {
      reasons.push(
        `${primary}: current ${fmt(c)}, candidate ${fmt(n)} (${worse > 0 ? `worse by ${fmt(worse)}, within ${rule.maxRegression}` : 'not worse'})`,
      );
    }
  } else if (rule.diffOnly && rule.maxMeanDiff !== null) {
    reasons.push(
      `no labels: gated on prediction differences alone (--diff-only, --max-mean-diff ${rule.maxMeanDiff})`,
    );
  } else {
    evaluated = false;
    reasons.push(
      'no labels: metrics not compared, so there is no verdict; score labelled rows with --label COL, or gate on prediction differences alone with --diff-only --max-mean-diff X',
    );
  }
  if (input.nonfinite && input.nonfinite.candidate > input.nonfinite.current) {
    reject = true;
    reasons.push(
      `the candidate predicts NaN or infinity for ${input.nonfinite.candidate} rows (current: ${input.nonfinite.current})`,
    );
  }
  if (rule.requireFeatures && input.missingFeatures.length > 0) {
    reject = true;
    reasons.push(`the candidate lacks features the current model uses: ${input.missingFeatures.join(', ')}`);
  }
  if (rule.maxMeanDiff !== null && input.meanAbsDiff > rule.maxMeanDiff) {
    reject = true;
    reasons.push(`mean absolute prediction difference ${fmt(input.meanAbsDiff)} exceeds ${rule.maxMeanDiff}`);
  }
  return { verdict: reject ? 'reject' : evaluated ? 'promote' : 'not_evaluated', reasons };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x);
}
