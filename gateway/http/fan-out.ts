// Routes the gateway answers by asking every usable worker that holds a model version and merging
// their JSON answers (the monitor's counts are mergeable: docs/monitoring.md). To add a route,
// add an entry: its path pattern (shared/http/api-routes.ts) and a merge function.
import { API_ROUTES } from '../../shared/http/api-routes.js';
import { mergeMonitorResponses } from '../../shared/monitor/monitor-merge.js';
import { controlRequest } from '../upstream/control-client.js';
import type { WorkerSet } from '../upstream/worker-set.js';

export interface FanOutRoute {
  patterns: readonly string[];
  merge(responses: unknown[]): unknown;
}

export const FAN_OUT_ROUTES: FanOutRoute[] = [
  // The monitor's counts merge exactly (shared/monitor/monitor-merge.ts).
  { patterns: API_ROUTES.monitor, merge: mergeMonitorResponses },
];

/** JSON answers (status 200) of every usable worker holding (model, version). */
export async function fanOut(
  workers: WorkerSet,
  model: string,
  version: string,
  path: string,
  requestId: string,
): Promise<unknown[]> {
  const targets = workers.candidates(model, version);
  const answers = await Promise.all(
    targets.map(async (w) => {
      try {
        const res = await controlRequest(w.agent, w.host, w.port, {
          method: 'GET',
          path,
          headers: { 'x-request-id': requestId },
          timeoutMs: w.data.opts.timeoutMs,
          maxBytes: 16 * 1024 * 1024,
        });
        return res.status === 200 ? (JSON.parse(res.body.toString('utf8')) as unknown) : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return answers.filter((a) => a !== undefined);
}
