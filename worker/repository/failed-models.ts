// Why a model answers 503: a model none of whose versions is READY because they failed to load
// (a broken file, a probe that predicted NaN) names the reasons, so a client sees them instead of
// a bare "not found" (docs/api.md, Errors). The worker's answers and the gateway's (which learns
// these from its workers) both use them.
import type { ModelEntry } from './model-repository.js';

/** `version 1 failed to load: <reason>; ...` for a model's FAILED versions, or null. */
export function failedReason(entry: ModelEntry): string | null {
  const failed: string[] = [];
  for (const s of [...entry.slots.values()].sort((a, b) => Number(a.version) - Number(b.version))) {
    if (s.state === 'FAILED')
      failed.push(`version ${s.version} failed to load: ${s.reason ?? 'unknown reason'}`);
  }
  return failed.length > 0 ? failed.join('; ') : null;
}

/** Models with no READY version and at least one FAILED one (held models excluded): their reasons. */
export function unavailableReasons(
  models: ReadonlyMap<string, ModelEntry>,
  held: ReadonlySet<string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, entry] of models) {
    if (entry.latest !== null || held.has(name)) continue;
    const reason = failedReason(entry);
    if (reason !== null) out[name] = reason;
  }
  return out;
}
