// Open-loop load at a fixed rate for the overload benchmark (wrk2's approach, as loadtest/fixed-rate.ts):
// request i is due at t0 + i / rate and its latency counts from then, so queueing is not hidden.
// Latencies are kept per outcome: admitted (2xx) apart from shed (429/503), since the question is
// what admitted requests see while the gateway refuses the excess.
// The client is as cheap as wrk's: its connections are opened before the clock starts, each
// request is one prebuilt buffer written on an idle connection (one request per connection at a
// time, as undici's Pool with pipelining 1), and answers are framed by the gateway's own
// response-parser.ts. An undici client on one CPU measured its own lateness instead: against nginx
// answering a constant, it reported a p99 of 136 ms at 4,434 requests/s of 28 KB bodies (6.6 ms
// at 739/s), the same as the gateway's admitted p99 under overload.
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { builtFile } from '../../shared/runtime-path.js';
import { ResponseParser, type UpstreamResponse } from '../upstream/response-parser.js';
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
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 80);
  const bytes = Buffer.from(body);
  const request = Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\ncontent-length: ${bytes.length}\r\n\r\n`,
      'latin1',
    ),
    bytes,
  ]);
  const total = Math.floor(rate * seconds);
  const lat = new Float64Array(total);
  // Due times of requests waiting for an idle connection, in order (each enters once).
  const waiting = new Float64Array(total);
  let wHead = 0;
  let wTail = 0;
  let ok = 0;
  let shed = 0;
  let other = 0;
  let sent = 0;
  let t0 = 0;
  let finished = false;
  let drained!: () => void;
  const done = new Promise<void>((r) => (drained = r));
  const idle: Conn[] = [];
  const all = new Set<Conn>();
  /** While connecting: hears each connection that could not open. */
  let onOpenFailed = (): void => {};

  const settle = (): void => {
    if (ok + shed + other === total && !finished) {
      finished = true;
      drained();
    }
  };
  const dispatch = (c: Conn): void => {
    if (wHead < wTail) c.send(waiting[wHead++]!);
    else idle.push(c);
  };

  class Conn {
    due = -1;
    sentAt = 0;
    dead = false;
    connected = false;
    readonly socket: Socket;
    private readonly parser: ResponseParser;
    constructor(onReady: (c: Conn) => void) {
      this.parser = new ResponseParser(
        MAX_ANSWER,
        (r) => this.answered(r),
        () => this.die(),
      );
      const s = connect({ host, port, noDelay: true });
      this.socket = s;
      all.add(this);
      s.once('connect', () => {
        this.connected = true;
        onReady(this);
      });
      s.on('data', (b: Buffer) => this.parser.feed(b));
      s.on('error', () => {});
      s.on('close', () => this.die());
    }
    send(due: number): void {
      this.due = due;
      this.sentAt = performance.now();
      this.socket.write(request);
    }
    private answered(r: UpstreamResponse): void {
      const due = this.due;
      this.due = -1;
      if (due >= 0) {
        if (r.status >= 200 && r.status < 300) lat[ok++] = performance.now() - due;
        else if (r.status === 429 || r.status === 503) shed++;
        else other++;
        settle();
      }
      if (r.close) this.die();
      else dispatch(this);
    }
    /** The connection is gone: its request (if any) is an error, and a new one takes its place. */
    die(): void {
      if (this.dead) return;
      this.dead = true;
      all.delete(this);
      this.socket.destroy();
      const i = idle.indexOf(this);
      if (i >= 0) idle.splice(i, 1);
      if (this.due >= 0) {
        this.due = -1;
        other++;
        settle();
      }
      // A connection that never opened is not replaced: the server is gone, and the run ends
      // when no connection is left.
      if (!this.connected) onOpenFailed();
      if (finished) return;
      if (this.connected) new Conn(dispatch);
      else if (all.size === 0) {
        finished = true;
        drained();
      }
    }
  }

  // Connect first (as wrk does), so the schedule does not start with connection setup.
  // Connections that cannot open are left out; none at all is an error.
  await new Promise<void>((ready, fail) => {
    let pending = connections;
    const openedOrFailed = () => {
      if (--pending > 0) return;
      if (idle.length > 0) ready();
      else fail(new Error(`could not connect to ${u.host}`));
    };
    onOpenFailed = openedOrFailed;
    for (let i = 0; i < connections; i++)
      new Conn((c) => {
        idle.push(c);
        openedOrFailed();
      });
  });
  onOpenFailed = () => {};
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const c of all) if (c.due >= 0 && now - c.sentAt > TIMEOUT_MS) c.die();
  }, 1000);
  t0 = performance.now();
  let sentAt = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      while (sent < due) {
        const at = t0 + (sent * 1000) / rate;
        sent++;
        const c = idle.pop();
        if (c !== undefined) c.send(at);
        else waiting[wTail++] = at;
      }
      if (sent >= total || finished) {
        sentAt = performance.now();
        resolve();
      } else setTimeout(tick, 1);
    };
    tick();
  });
  if (total > 0) await done;
  clearInterval(watchdog);
  finished = true;
  for (const c of all) c.socket.destroy();
  // Requests never answered (every connection gone) count as errors too.
  other = total - ok - shed;
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
