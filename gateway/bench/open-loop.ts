// Open-loop load at a fixed rate for the overload benchmark (wrk2's approach, as loadtest/fixed-rate.ts):
// request i is due at t0 + i / rate and its latency counts from then, so queueing is not hidden.
// Latencies are kept per outcome: admitted (2xx) apart from shed (429/503), since the question is
// what admitted requests see while the gateway refuses the excess.
// The client is loadtest/open-loop-connections.ts (grove loadtest --rate's): connections opened
// before the clock starts, prebuilt request bytes, answers framed by shared/http/response-parser.ts.
// An undici client on one CPU measured its own lateness instead: against nginx answering a
// constant, it reported a p99 of 136 ms at 4,434 requests/s of 28 KB bodies (6.6 ms at 739/s),
// the same as the gateway's admitted p99 under overload.
import { spawn } from 'node:child_process';
import { percentile } from '../../loadtest/load-recorder.js';
import { OpenLoopConnections, postHead } from '../../loadtest/open-loop-connections.js';
import { runSchedule } from '../../loadtest/open-loop-schedule.js';
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

/** A request not answered within this is counted as an error (undici's default headers timeout). */
const TIMEOUT_MS = 10_000;
/** An answer larger than this is a protocol error. */
const MAX_ANSWER = 64 * 1024 * 1024;

export async function openLoop(
  url: string,
  path: string,
  body: string,
  rate: number,
  seconds: number,
  connections = 256,
): Promise<OpenLoopResult> {
  const u = new URL(url);
  const bytes = Buffer.from(body);
  const head = `${postHead(u, path, bytes.length)}\r\n`;
  // Connect first (as wrk does), so the schedule does not start with connection setup.
  const conns = await OpenLoopConnections.open({
    url: u,
    connections,
    timeoutMs: TIMEOUT_MS,
    maxAnswer: MAX_ANSWER,
  });
  if (conns.open === 0) {
    conns.close();
    throw new Error(`could not connect to ${u.host}`);
  }
  const total = Math.floor(rate * seconds);
  const lat = new Float64Array(total);
  let ok = 0;
  let shed = 0;
  let other = 0;
  let drained!: () => void;
  const done = new Promise<void>((r) => (drained = r));
  const fire = (_i: number, due: number): void =>
    conns.send(head, bytes, (r) => {
      if (r === null) other++;
      else if (r.status >= 200 && r.status < 300) lat[ok++] = performance.now() - due;
      else if (r.status === 429 || r.status === 503) shed++;
      else other++;
      if (ok + shed + other === total) drained();
    });
  const { t0, endedAt } = await runSchedule(rate, total, fire);
  // Each request ends: answered, timed out, or failed with its connection.
  if (total > 0) await done;
  conns.close();
  const s = lat.subarray(0, ok).sort();
  return {
    sent: total,
    elapsedS: (endedAt - t0) / 1000,
    ok,
    shed,
    other,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
  };
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
