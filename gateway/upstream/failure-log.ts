// Logs failed upstream attempts with the detail clients are never told (the worker's address, the
// socket error), at most one line per worker and kind per second, with a count of those folded in:
// a dead worker under load would otherwise write a line per request. A line carries the trace id
// of the call it reports (the first of those folded into it).
import type { Logger } from 'pino';
import type { UpstreamFailure } from '../forward/upstream-call.js';

export function logUpstreamFailures(logger: Logger, everyMs = 1000): (f: UpstreamFailure) => void {
  const last = new Map<string, { at: number; folded: number }>();
  return (f) => {
    const key = `${f.worker} ${f.kind}`;
    const now = performance.now();
    const seen = last.get(key);
    if (seen !== undefined && now - seen.at < everyMs) {
      seen.folded++;
      return;
    }
    if (last.size > 1024) last.clear();
    last.set(key, { at: now, folded: 0 });
    logger.warn(
      {
        event: 'upstream_failure',
        worker: f.worker,
        kind: f.kind,
        detail: f.detail,
        folded: seen?.folded ?? 0,
        trace_id: f.traceId,
      },
      'upstream call failed',
    );
  };
}
