// Open-loop load at a fixed rate for the overload benchmark (wrk2's approach, as loadtest/fixed-rate.ts):
// request i is due at t0 + i / rate and its latency counts from then, so queueing is not hidden.
// Latencies are kept per outcome: admitted (2xx) apart from shed (429/503), since the question is
// what admitted requests see while the gateway refuses the excess.
import { spawn } from 'node:child_process';
import { Pool } from 'undici';
import { builtFile } from '../../shared/runtime-path.js';
import type { Pinning } from './cpu-pin.js';

export interface OpenLoopResult {
  sent: number;
  /** How long sending took (seconds): more than the schedule's length when the client fell behind. */
  elapsedS: number;
  ok: number;
  shed: number;
  other: number;
  /** p50 / p99 of 2xx answers, ms from their due time. */
  p50: number;
  p99: number;
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export async function openLoop(
  url: string,
  path: string,
  body: string,
  rate: number,
  seconds: number,
  connections = 256,
): Promise<OpenLoopResult> {
  const pool = new Pool(url, { connections, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const total = Math.floor(rate * seconds);
  const lat = new Float64Array(total);
  let ok = 0;
  let shed = 0;
  let other = 0;
  let sent = 0;
  let inFlight = 0;
  let drained!: () => void;
  const done = new Promise<void>((r) => (drained = r));
  const t0 = performance.now();
  const fire = (i: number) => {
    const due = t0 + (i * 1000) / rate;
    inFlight++;
    pool
      .request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode === 200) lat[ok++] = performance.now() - due;
        else if (res.statusCode === 429 || res.statusCode === 503) shed++;
        else other++;
      })
      .catch(() => other++)
      .finally(() => {
        if (--inFlight === 0 && sent >= total) drained();
      });
  };
  let sentAt = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      while (sent < due) fire(sent++);
      if (sent >= total) {
        sentAt = performance.now();
        resolve();
      } else setTimeout(tick, 1);
    };
    tick();
  });
  if (inFlight > 0) await done;
  await pool.destroy();
  const s = lat.subarray(0, ok).sort();
  return { sent: total, elapsedS: (sentAt - t0) / 1000, ok, shed, other, p50: pct(s, 50), p99: pct(s, 99) };
}

/** openLoop in a process of its own on the client's CPUs (open-loop-child.ts), or here without pinning. */
export function openLoopOn(
  pinning: Pinning | null,
  url: string,
  path: string,
  body: string,
  rate: number,
  seconds: number,
): Promise<OpenLoopResult> {
  if (pinning === null) return openLoop(url, path, body, rate, seconds);
  const args = [builtFile('gateway/bench/open-loop-child.js'), JSON.stringify({ url, path, rate, seconds })];
  const c = spawn(pinning.taskset, ['-c', pinning.client, process.execPath, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  c.stdin.end(body);
  return new Promise((resolve, reject) => {
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.on('error', reject);
    c.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as OpenLoopResult) : reject(new Error(`open-loop exited ${code}`)),
    );
  });
}
