// Runs wrk (Debian `wrk`: a C load generator costing a fraction of a core, so the figures say what
// the server does, not who starves whom) and reads its report: requests/s, latency percentiles,
// errors. A POST body goes in through a generated Lua script.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WrkResult {
  rps: number;
  requests: number;
  seconds: number;
  /** Milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  /** Socket errors and non-2xx/3xx answers. */
  errors: number;
}

export interface WrkRun {
  url: string;
  connections: number;
  seconds: number;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  /** Run wrk on these CPUs (cpu-pin.ts). */
  pinned?: { taskset: string; cpus: string };
}

export function wrkBinary(): string | null {
  for (const p of ['/usr/bin/wrk', '/usr/local/bin/wrk']) if (existsSync(p)) return p;
  return null;
}

function ms(v: string, unit: string): number {
  const x = Number(v);
  return unit === 'us' ? x / 1000 : unit === 's' ? x * 1000 : unit === 'm' ? x * 60_000 : x;
}

/** Parses wrk's text report (with --latency). */
export function parseWrk(text: string): WrkResult {
  const pct = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
    return m ? ms(m[1]!, m[2]!) : Number.NaN;
  };
  const done = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(text);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const socketErrors = sock ? sock.slice(1, 5).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    rps: rps ? Number(rps[1]) : Number.NaN,
    requests: done ? Number(done[1]) : 0,
    seconds: done ? ms(done[2]!, done[3]!) / 1000 : Number.NaN,
    p50: pct('50'),
    p90: pct('90'),
    p99: pct('99'),
    errors: socketErrors + (non2xx ? Number(non2xx[1]) : 0),
  };
}

export async function runWrk(binary: string, r: WrkRun): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'grove-wrk-'));
  try {
    const lua = [`wrk.method = "${r.method ?? 'GET'}"`];
    for (const [k, v] of Object.entries(r.headers ?? {}))
      lua.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
    if (r.body !== undefined) lua.push(`wrk.body = ${JSON.stringify(r.body)}`);
    const script = join(dir, 'request.lua');
    writeFileSync(script, `${lua.join('\n')}\n`);
    const args = [
      '-t1',
      `-c${r.connections}`,
      `-d${r.seconds}s`,
      '--latency',
      '--timeout',
      '10s',
      '-s',
      script,
      r.url,
    ];
    const text = await new Promise<string>((resolve, reject) => {
      const pinned = r.pinned;
      const p =
        pinned === undefined
          ? spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
          : spawn(pinned.taskset, ['-c', pinned.cpus, binary, ...args], {
              stdio: ['ignore', 'pipe', 'pipe'],
            });
      let out = '';
      p.stdout.on('data', (c) => (out += c));
      p.stderr.on('data', (c) => (out += c));
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${out}`))));
    });
    return parseWrk(text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
