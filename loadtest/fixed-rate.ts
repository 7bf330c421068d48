// Open-loop load at a fixed request rate (wrk2's approach): request i is due at t0 + i / rate and
// its latency is measured from that intended time, so when the server stalls the queueing delay
// is counted instead of hidden (coordinated omission, Gil Tene). autocannon's `overallRate` is not
// used for this: it sends each connection's share in a burst at the start of every second and
// measures from the actual write, "correcting" with a 1 ms expected interval.
// The requests go out on open-loop-connections.ts (opened before the clock starts, written as
// prebuilt bytes), so what is measured is the server, not the generator's own lateness.

import type { UpstreamResponse } from '../shared/http/response-parser.js';
import type { EngineRun } from './closed-loop.js';
import { versionOf, workerOf } from './load-recorder.js';
import { type Failure, OpenLoopConnections, postHead } from './open-loop-connections.js';
import { runSchedule } from './open-loop-schedule.js';

/** An answer body larger than this is a protocol error (a prediction answer is far smaller). */
const MAX_ANSWER = 64 * 1024 * 1024;

export async function runFixedRate(run: EngineRun & { rate: number }): Promise<{ durationS: number }> {
  const url = new URL(run.url);
  const conns = await OpenLoopConnections.open({
    url,
    connections: run.connections,
    timeoutMs: run.timeoutS * 1000,
    maxAnswer: MAX_ANSWER,
  });
  // Each body's bytes and head are built once; only a sticky user's header is added per request.
  const bodies = run.bodies.map((b) => Buffer.from(b));
  const heads = bodies.map((b) => postHead(url, run.path, b.length));
  const total = Math.floor(run.rate * run.durationS);
  // Bound client memory when the server falls far behind: beyond this many requests in flight
  // (sent or waiting for a connection) a due request is counted as an error instead of queued.
  const maxInFlight = Math.max(1000, run.rate * run.timeoutS);
  let scheduled = false;
  let inFlight = 0;
  const epoch = Date.now() - performance.now();
  let settle: () => void = () => {};
  const drained = new Promise<void>((resolve) => (settle = resolve));

  const fire = (i: number, intended: number) => {
    if (inFlight >= maxInFlight) {
      run.recorder.error(epoch + performance.now());
      return;
    }
    inFlight++;
    const user = run.nextUser();
    const k = i % bodies.length;
    const head = user >= 0 ? `${heads[k]}x-user-id: user-${user}\r\n\r\n` : `${heads[k]}\r\n`;
    conns.send(head, bodies[k]!, (answer, failure) => {
      const now = performance.now();
      if (answer !== null) record(answer, now - intended, user, epoch + now);
      else failed(failure!, epoch + now);
      inFlight--;
      if (scheduled && inFlight === 0) settle();
    });
  };
  const record = (r: UpstreamResponse, latencyMs: number, user: number, atMs: number) => {
    const headers = groveHeaders(r.headers);
    const ok = r.status >= 200 && r.status <= 299;
    // The body is decoded only when it is needed: no version header, or a failure to sample.
    const text = ok && headers['x-grove-model-version'] !== undefined ? null : r.body.toString();
    if (!ok) run.recorder.sample(r.status, text!);
    run.recorder.response(r.status, latencyMs, versionOf(headers, text), user, atMs, workerOf(headers));
  };
  const failed = (f: Failure, atMs: number) => {
    run.recorder.error(atMs, f.timeout);
    run.recorder.sample(null, f.message);
  };

  const { t0, endedAt } = await runSchedule(run.rate, total, fire, () => run.signal?.aborted === true);
  scheduled = true;
  if (inFlight > 0) {
    // Every request is bounded by the per-request timeout.
    await Promise.race([drained, new Promise((r) => setTimeout(r, run.timeoutS * 1000 + 1000).unref())]);
  }
  // What is still unanswered fails now.
  conns.close();
  // The schedule's length, not the drain time: rate = requests issued / scheduled seconds.
  return { durationS: Math.min(run.durationS, Math.max((endedAt - t0) / 1000, 1 / run.rate)) };
}

/** The two headers the report reads, from an answer's flat [name, value, ...] list. */
function groveHeaders(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    if (name === 'x-grove-model-version' || name === 'x-grove-worker') out[name] = flat[i + 1]!;
  }
  return out;
}
