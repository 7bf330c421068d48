// `npm run bench:stream`: grove stream against the engine's own limit on this machine, in the same
// run (docs/streaming.md, Benchmark). The peer is a pass-through consumer
// (stream/bench/pass-through-main.ts: the same NATS adapter, scoring loop, batches, publish with
// Nats-Msg-Id and ack after the PubAck; a constant result of grove's size, no parse, no model). Each round, for each contender (alternating who
// goes first), on fresh streams:
//   throughput: ROWS rows of the 100-tree fixture are stored in the input stream first, then one
//     consumer process starts; rows/s = results received on the output subject, first to last;
//   latency: a new consumer, warmed up with a burst of 2000 rows (all answered first), while this
//     script publishes rows at half the pass-through's rows/s of the round; latency = publish to
//     result received (Nats-Msg-Id matches them).
// Prints every round, the medians, and grove's ratios to the peer (targets: rows/s >= 0.8x,
// p99 <= 1.5x). The load generator is this script's nats.js publisher and subscriber.
// Env: GROVE_BENCH_NATS (else a throw-away nats-server -js is started), BENCH_ROWS (20000),
// BENCH_LATENCY_ROWS (10000), BENCH_ROUNDS (3), BENCH_BATCH (256).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, type JetStreamManager, type NatsConnection, StorageType } from 'nats';
import { freePort } from '../../loadtest/suite/processes.js';
import { builtFile, projectRoot } from '../../shared/runtime-path.js';
import { streamNameFor } from '../nats/nats-subjects.js';

const FIXTURE = join(projectRoot, 'test/fixtures/xgboost/xgb-binary-100x4');
const ROWS = Number(process.env.BENCH_ROWS ?? 20_000);
const LATENCY_ROWS = Number(process.env.BENCH_LATENCY_ROWS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 256);
const WARMUP_ROWS = 2000;
const RUN = `b${process.pid}`;

interface Contender {
  name: 'pass-through' | 'grove';
  args(subject: string, output: string): string[];
}

/** A throw-away nats-server -js on a free port, or the one GROVE_BENCH_NATS names. */
async function natsServer(): Promise<{ url: string; version: string; stop(): void }> {
  const given = process.env.GROVE_BENCH_NATS;
  if (given) return { url: given, version: 'given', stop() {} };
  const bin = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find(
    existsSync,
  );
  if (!bin) throw new Error("nats-server not found: install Debian's nats-server or set GROVE_BENCH_NATS");
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const dir = mkdtempSync(join(tmpdir(), 'grove-bench-nats-'));
  const port = await freePort();
  const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'pipe' });
  await waitForLine(child, /Server is ready/);
  return {
    url: `nats://127.0.0.1:${port}`,
    version,
    stop() {
      child.kill('SIGTERM');
      child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    },
  };
}

function waitForLine(child: ChildProcess, re: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const on = (c: Buffer) => {
      seen = (seen + c.toString()).slice(-4096);
      if (re.test(seen)) {
        child.stdout?.off('data', on);
        child.stderr?.off('data', on);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${seen}`)));
  });
}

/** The fixture's rows as JSON arrays (null = missing), as a producer would send them. */
function fixtureRows(): string[] {
  const lines = readFileSync(join(FIXTURE, 'test.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.map(
    (l) =>
      `[${l
        .split(',')
        .map((x) => (x === '' ? 'null' : x))
        .join(',')}]`,
  );
}

async function freshStreams(jsm: JetStreamManager, subjects: string[]): Promise<void> {
  for (const s of subjects) {
    await jsm.streams.add({ name: streamNameFor(s), subjects: [s], storage: StorageType.File });
  }
}

async function dropStreams(jsm: JetStreamManager, subjects: string[]): Promise<void> {
  for (const s of subjects) await jsm.streams.delete(streamNameFor(s)).catch(() => false);
}

async function startConsumer(c: Contender, subject: string, output: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, c.args(subject, output), { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  await waitForLine(child, /consuming/).catch((e: Error) => {
    throw new Error(`${c.name} did not start: ${e.message}\n${err}`);
  });
  return child;
}

/** CPU seconds (user + system) the process has used, from /proc (Linux), or NaN. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function stopConsumer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Results received on `output` with ids `<prefix>-<i>` until `n` distinct ones: first and last arrival times. */
function collect(nc: NatsConnection, output: string, prefix: string, n: number, sent?: Float64Array) {
  const seen = new Uint8Array(n);
  const latency = sent ? new Float64Array(n) : null;
  let count = 0;
  let first = 0;
  let last = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  nc.subscribe(output, {
    callback: (_err, m) => {
      const now = performance.now();
      const id = m.headers?.get('Nats-Msg-Id') ?? '';
      if (!id.startsWith(prefix) || id.charCodeAt(prefix.length) !== 45) return;
      const i = Number(id.slice(prefix.length + 1));
      if (!(i >= 0 && i < n) || seen[i]) return;
      seen[i] = 1;
      if (latency) latency[i] = now - sent![i]!;
      if (count++ === 0) first = now;
      last = now;
      if (count === n) done();
    },
  });
  return { finished, times: () => ({ first, last, count }), latency };
}

async function throughput(
  nc: NatsConnection,
  jsm: JetStreamManager,
  c: Contender,
  rows: string[],
  tag: string,
) {
  const subject = `bench.${RUN}.${tag}.rows`;
  const output = `bench.${RUN}.${tag}.out`;
  const subjects = [subject, output, `${output}.errors`];
  await freshStreams(jsm, subjects);
  const js = nc.jetstream();
  const window: Promise<unknown>[] = [];
  for (let i = 0; i < ROWS; i++) {
    window.push(js.publish(subject, rows[i % rows.length]!, { msgID: `${tag}-${i}` }));
    if (window.length >= 512) await Promise.all(window.splice(0));
  }
  await Promise.all(window);
  const sink = collect(nc, output, tag, ROWS);
  const child = await startConsumer(c, subject, output);
  const cpu0 = cpuSeconds(child.pid);
  await sink.finished;
  const cpu = cpuSeconds(child.pid) - cpu0;
  await stopConsumer(child);
  await dropStreams(jsm, subjects);
  const t = sink.times();
  return { rps: ((t.count - 1) * 1000) / (t.last - t.first), cpuUsPerRow: (cpu * 1e6) / ROWS };
}

async function latency(
  nc: NatsConnection,
  jsm: JetStreamManager,
  c: Contender,
  rows: string[],
  tag: string,
  rate: number,
) {
  const subject = `bench.${RUN}.${tag}.rows`;
  const output = `bench.${RUN}.${tag}.out`;
  const subjects = [subject, output, `${output}.errors`];
  await freshStreams(jsm, subjects);
  const child = await startConsumer(c, subject, output);
  // Warm-up: a burst of rows, all answered, before the timed run (JIT, pool threads starting).
  const warm = collect(nc, output, `${tag}w`, WARMUP_ROWS);
  for (let i = 0; i < WARMUP_ROWS; i++) {
    const h = headers();
    h.set('Nats-Msg-Id', `${tag}w-${i}`);
    nc.publish(subject, rows[i % rows.length]!, { headers: h });
  }
  await warm.finished;
  const sent = new Float64Array(LATENCY_ROWS);
  const sink = collect(nc, output, tag, LATENCY_ROWS, sent);
  const t0 = performance.now();
  let i = 0;
  while (i < LATENCY_ROWS) {
    const due = Math.min(LATENCY_ROWS, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    for (; i < due; i++) {
      const h = headers();
      h.set('Nats-Msg-Id', `${tag}-${i}`);
      sent[i] = performance.now();
      nc.publish(subject, rows[i % rows.length]!, { headers: h });
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await sink.finished;
  await stopConsumer(child);
  await dropStreams(jsm, subjects);
  const lat = Float64Array.from(sink.latency!).sort();
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { p50: q(0.5), p99: q(0.99) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function main(): Promise<void> {
  const server = await natsServer();
  const models = mkdtempSync(join(tmpdir(), 'grove-bench-stream-'));
  mkdirSync(join(models, 'churn', '1'), { recursive: true });
  cpSync(join(FIXTURE, 'model.json'), join(models, 'churn', '1', 'model.json'));
  const contenders: Contender[] = [
    {
      name: 'pass-through',
      args: (s, o) => [builtFile('stream/bench/pass-through-main.js'), server.url, s, o, String(BATCH)],
    },
    {
      name: 'grove',
      args: (s, o) => [
        builtFile('cli/grove.js'),
        'stream',
        '--nats',
        server.url,
        '--models',
        models,
        '--model',
        'churn',
        '--subject',
        s,
        '--output-subject',
        o,
        '--batch',
        String(BATCH),
        '--log-level',
        'warn',
      ],
    },
  ];
  const nc = await connect({ servers: server.url });
  const jsm = await nc.jetstreamManager();
  const rows = fixtureRows();
  console.log(
    `grove stream benchmark: model xgb-binary-100x4 (100 trees, depth 4, 20 features), batch ${BATCH}, ` +
      `${fmt(ROWS)} rows preloaded for rows/s, ${fmt(LATENCY_ROWS)} rows for latency, ${ROUNDS} rounds`,
  );
  console.log(
    `nats-server ${server.version}; load generator: this script's nats.js publisher and subscriber; ` +
      `${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(2)}`,
  );
  const res: Record<string, { rps: number[]; cpu: number[]; p50: number[]; p99: number[] }> = {
    'pass-through': { rps: [], cpu: [], p50: [], p99: [] },
    grove: { rps: [], cpu: [], p50: [], p99: [] },
  };
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      const order = r % 2 === 1 ? contenders : [...contenders].reverse();
      const rps: Record<string, number> = {};
      const cpu: Record<string, number> = {};
      for (const c of order) {
        const t = await throughput(nc, jsm, c, rows, `r${r}t${c.name[0]}`);
        rps[c.name] = t.rps;
        cpu[c.name] = t.cpuUsPerRow;
      }
      const rate = rps['pass-through']! / 2;
      const lat: Record<string, { p50: number; p99: number }> = {};
      for (const c of order) lat[c.name] = await latency(nc, jsm, c, rows, `r${r}l${c.name[0]}`, rate);
      for (const c of contenders) {
        res[c.name]!.rps.push(rps[c.name]!);
        res[c.name]!.cpu.push(cpu[c.name]!);
        res[c.name]!.p50.push(lat[c.name]!.p50);
        res[c.name]!.p99.push(lat[c.name]!.p99);
      }
      console.log(
        `round ${r}: rows/s pass-through ${fmt(rps['pass-through']!)}, grove ${fmt(rps.grove!)} ` +
          `(${(rps.grove! / rps['pass-through']!).toFixed(2)}x; consumer CPU per row ` +
          `${cpu['pass-through']!.toFixed(0)} vs ${cpu.grove!.toFixed(0)} us); at ${fmt(rate)} rows/s p50/p99 ` +
          `pass-through ${ms(lat['pass-through']!.p50)}/${ms(lat['pass-through']!.p99)}, ` +
          `grove ${ms(lat.grove!.p50)}/${ms(lat.grove!.p99)} (p99 ${(lat.grove!.p99 / lat['pass-through']!.p99).toFixed(2)}x)`,
      );
    }
    const g = res.grove!;
    const p = res['pass-through']!;
    const rpsRatio = median(g.rps.map((x, i) => x / p.rps[i]!));
    const p99Ratio = median(g.p99.map((x, i) => x / p.p99[i]!));
    console.log(
      `median rows/s: grove ${fmt(median(g.rps))}, pass-through ${fmt(median(p.rps))}; ` +
        `grove/pass-through ${rpsRatio.toFixed(2)}x (target >= 0.8)`,
    );
    console.log(
      `median p99 at half the pass-through rate: grove ${ms(median(g.p99))}, pass-through ${ms(median(p.p99))}; ` +
        `grove/pass-through ${p99Ratio.toFixed(2)}x (target <= 1.5); p50 grove ${ms(median(g.p50))}, ` +
        `pass-through ${ms(median(p.p50))}`,
    );
    // CPU time per row of the consumer process: what the contender costs, less sensitive than
    // wall-clock rates to other load on a shared machine.
    console.log(
      `median consumer CPU per row: grove ${median(g.cpu).toFixed(1)} us, pass-through ` +
        `${median(p.cpu).toFixed(1)} us (${(median(g.cpu) / median(p.cpu)).toFixed(2)}x); ` +
        `load average at the end ${loadavg()[0]!.toFixed(2)}`,
    );
  } finally {
    await nc.close();
    server.stop();
    rmSync(models, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
