// Closed-loop load on autocannon's programmatic API: each connection sends its next request as
// soon as the previous one answers (pipelining 1), as fast as the server allows. Latency is
// autocannon's per-response time, measured from when the request was written to the socket.
import autocannon from 'autocannon';
import type { LoadRecorder } from './load-recorder.js';
import { versionOf, workerOf } from './load-recorder.js';

export interface EngineRun {
  url: string;
  path: string;
  bodies: string[];
  connections: number;
  durationS: number;
  timeoutS: number;
  /** Picks a sticky user index for the next request, or -1 for none. */
  nextUser: () => number;
  recorder: LoadRecorder;
  /** Aborts the run early (e.g. on SIGINT); the report covers what ran. */
  signal?: AbortSignal;
}

interface Slot {
  user: number;
}

export async function runClosedLoop(run: EngineRun): Promise<{ durationS: number }> {
  let next = 0;
  // onResponse runs synchronously right before autocannon's 'response' event for the same
  // response, so the version and user can be handed over in a variable.
  let lastVersion: string | null = null;
  let lastWorker: string | null = null;
  let lastUser = -1;
  const started = performance.now();
  let finish: (err: Error | null) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    finish = (err) => (err ? reject(err) : resolve());
  });
  // The callback form returns the event-emitting instance (the promise form does not).
  const instance = autocannon(
    {
      url: run.url + run.path,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: run.bodies[0]!,
      connections: run.connections,
      pipelining: 1,
      duration: run.durationS,
      timeout: run.timeoutS,
      requests: [
        {
          setupRequest: (req, context) => {
            const slot = context as Slot;
            const user = run.nextUser();
            slot.user = user;
            const headers: Record<string, string> = { 'content-type': 'application/json' };
            if (user >= 0) headers['x-user-id'] = `user-${user}`;
            return { ...req, headers, body: run.bodies[next++ % run.bodies.length]! };
          },
          onResponse: (status, body, context, headers) => {
            if (status < 200 || status > 299) run.recorder.sample(status, body ?? '');
            lastVersion = versionOf(headers as Record<string, unknown>, body);
            lastWorker = workerOf(headers as Record<string, unknown>);
            lastUser = (context as Slot).user ?? -1;
          },
        },
      ],
    },
    (err) => finish(err ?? null),
  );
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    run.recorder.response(statusCode, responseTime, lastVersion, lastUser, Date.now(), lastWorker);
    lastVersion = null;
    lastWorker = null;
    lastUser = -1;
  });
  instance.on('reqError', (err: Error) => {
    run.recorder.error(Date.now());
    run.recorder.sample(null, err?.message ?? String(err));
  });
  const onAbort = () => (instance as unknown as { stop(): void }).stop();
  run.signal?.addEventListener('abort', onAbort, { once: true });
  await finished;
  run.signal?.removeEventListener('abort', onAbort);
  return { durationS: (performance.now() - started) / 1000 };
}
