// Routes the gateway answers by asking every usable worker that holds a model version and merging
// their JSON answers (the monitor's counts are mergeable: docs/architecture.md, Monitoring). To add a route,
// add a pattern (groups: model, version) and a merge function.
import { request } from 'undici';
import { mergeMonitorResponses } from '../../shared/monitor/monitor-merge.js';
import type { WorkerSet } from '../upstream/worker-set.js';

export interface FanOutRoute {
  pattern: RegExp;
  merge(responses: unknown[]): unknown;
}

export const FAN_OUT_ROUTES: FanOutRoute[] = [
  {
    pattern: /^\/v2\/models\/([^/]+)\/versions\/([^/]+)\/monitor$/,
    // The monitor's counts merge exactly (shared/monitor/monitor-merge.ts).
    merge: mergeMonitorResponses,
  },
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
        const res = await request(w.url + path, {
          dispatcher: w.control,
          headers: { 'x-request-id': requestId },
        });
        if (res.statusCode !== 200) {
          await res.body.dump();
          return undefined;
        }
        return (await res.body.json()) as unknown;
      } catch {
        return undefined;
      }
    }),
  );
  return answers.filter((a) => a !== undefined);
}
