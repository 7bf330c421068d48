// Open-loop load at a fixed request rate (wrk2's approach): request i is due at t0 + i / rate and
// its latency is measured from that intended time, so when the server stalls the queueing delay
// is counted instead of hidden (coordinated omission, Gil Tene). autocannon's `overallRate` is not
// used for this: it sends each connection's share in a burst at the start of every second and
// measures from the actual write, "correcting" with a 1 ms expected interval.
import { Pool } from 'undici';
import type { EngineRun } from './closed-loop.js';
import { versionOf, workerOf } from './load-recorder.js';

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

export async function runFixedRate(run: EngineRun & { rate: number }): Promise<{ durationS: number }> {
  const pool = new Pool(run.url, {
    connections: run.connections,
    pipelining: 1,
    headersTimeout: run.timeoutS * 1000,
    bodyTimeout: run.timeoutS * 1000,
    connectTimeout: run.timeoutS * 1000,
  });
  const total = Math.floor(run.rate * run.durationS);
  // Bound client memory when the server falls far behind: beyond this many requests in flight
  // (queued in undici) a due request is counted as an error instead of queued.
  const maxInFlight = Math.max(1000, run.rate * run.timeoutS);
  let sent = 0;
  let inFlight = 0;
  let stoppedAt = 0;
  const t0 = performance.now();
  const epoch = Date.now() - t0;
  let settle: () => void = () => {};
  const drained = new Promise<void>((resolve) => (settle = resolve));

  const fire = (i: number) => {
    const intended = t0 + (i * 1000) / run.rate;
    if (inFlight >= maxInFlight) {
      run.recorder.error(epoch + performance.now());
      return;
    }
    inFlight++;
    const user = run.nextUser();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (user >= 0) headers['x-user-id'] = `user-${user}`;
    pool
      .request({ path: run.path, method: 'POST', headers, body: run.bodies[i % run.bodies.length]! })
      .then(async (res) => {
        const text = await res.body.text();
        const now = performance.now();
        if (res.statusCode < 200 || res.statusCode > 299) run.recorder.sample(res.statusCode, text);
        run.recorder.response(
          res.statusCode,
          now - intended,
          versionOf(res.headers, text),
          user,
          epoch + now,
          workerOf(res.headers),
        );
      })
      .catch((err: { code?: string; message?: string }) => {
        run.recorder.error(epoch + performance.now(), TIMEOUT_CODES.has(err?.code ?? ''));
        run.recorder.sample(null, err?.message ?? String(err));
      })
      .finally(() => {
        inFlight--;
        if (sent >= total && inFlight === 0) settle();
      });
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * run.rate) / 1000) + 1);
      while (sent < due) fire(sent++);
      if (sent >= total || run.signal?.aborted) {
        sent = total;
        stoppedAt = performance.now();
        resolve();
        return;
      }
      // 1 ms timers: requests due within the same millisecond go out together.
      setTimeout(tick, 1);
    };
    tick();
  });
  if (inFlight > 0) {
    // Every request is bounded by the per-request timeout.
    await Promise.race([drained, new Promise((r) => setTimeout(r, run.timeoutS * 1000 + 1000).unref())]);
  }
  await pool.destroy();
  // The schedule's length, not the drain time: rate = requests issued / scheduled seconds.
  return { durationS: Math.min(run.durationS, Math.max((stoppedAt - t0) / 1000, 1 / run.rate)) };
}
