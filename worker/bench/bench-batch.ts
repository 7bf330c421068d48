// `npm run bench:batch`: rows per second through a worker's streaming `:batch` endpoint, CSV and
// NDJSON, for a 20-feature XGBoost model (100 trees of depth 4) whose rows include missing values.
// The whole body is sent as one stream and the answer read to its end; each round is one batch,
// rounds alternate between formats (and between this build and BENCH_PEER_CLI when given: another
// build's dist/cli/grove.js, e.g. the main branch's, measured in the same run), medians printed.
// Env: BENCH_ROWS (default 1,000,000), BENCH_ROUNDS (default 5), BENCH_PEER_CLI.
import { readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { builtFile } from '../../shared/runtime-path.js';
import { BENCH_FIXTURE, benchRepository, median, startBenchWorker } from './bench-support.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PEER_CLI = process.env.BENCH_PEER_CLI;

/** The fixture's rows (empty field = missing), repeated to `rows` rows, as CSV and as NDJSON. */
function bodies(rows: number): { csv: Buffer; ndjson: Buffer } {
  const lines = readFileSync(join(BENCH_FIXTURE, 'test.csv'), 'utf8').trim().split('\n');
  const header = lines[0]!;
  const data = lines.slice(1);
  const json = data.map((l) => JSON.stringify(l.split(',').map((f) => (f === '' ? null : Number(f)))));
  const csv: string[] = [header];
  const nd: string[] = [];
  for (let r = 0; r < rows; r++) {
    csv.push(data[r % data.length]!);
    nd.push(json[r % json.length]!);
  }
  return { csv: Buffer.from(csv.join('\n') + '\n'), ndjson: Buffer.from(nd.join('\n') + '\n') };
}

/** Sends one batch and reads the answer to its end; rows per second of the whole exchange. */
async function oneBatch(url: string, body: Buffer, type: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const res = await request(url, { method: 'POST', headers: { 'content-type': type }, body });
  let lines = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const answered = type === 'text/csv' ? lines - 1 : lines;
  if (res.statusCode !== 200 || answered !== ROWS)
    throw new Error(`batch answered ${res.statusCode} with ${answered} rows, expected ${ROWS}`);
  return ROWS / s;
}

async function main(): Promise<void> {
  console.log(
    `machine: ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)} at start; ${ROWS} rows per batch, ${ROUNDS} rounds`,
  );
  const repo = benchRepository('bench-batch');
  const { csv, ndjson } = bodies(ROWS);
  const builds = [{ name: 'this build', cli: builtFile('cli/grove.js') }];
  if (PEER_CLI) builds.push({ name: 'peer build', cli: PEER_CLI });
  const workers = await Promise.all(builds.map((b) => startBenchWorker(repo, [], b.cli)));
  const formats = [
    { name: 'csv', body: csv, type: 'text/csv' },
    { name: 'ndjson', body: ndjson, type: 'application/x-ndjson' },
  ];
  const results = new Map<string, number[]>();
  try {
    // One warm-up batch each (JIT, pool threads), then alternating rounds.
    for (const w of workers)
      for (const f of formats) await oneBatch(`${w.url}/v1/models/bench:batch`, f.body, f.type);
    for (let round = 0; round < ROUNDS; round++) {
      for (const f of formats) {
        for (let i = 0; i < workers.length; i++) {
          const key = `${builds[i]!.name} ${f.name}`;
          const rps = await oneBatch(`${workers[i]!.url}/v1/models/bench:batch`, f.body, f.type);
          results.set(key, [...(results.get(key) ?? []), rps]);
        }
      }
    }
    for (const f of formats) {
      const mine = results.get(`this build ${f.name}`)!;
      let line = `${f.name.padEnd(6)}: this build ${median(mine).toFixed(0)} rows/s (rounds ${mine.map((x) => x.toFixed(0)).join(', ')})`;
      const peer = results.get(`peer build ${f.name}`);
      if (peer) {
        const ratios = mine.map((x, i) => x / peer[i]!);
        line += `; peer build ${median(peer).toFixed(0)} rows/s; ratio ${median(ratios).toFixed(3)} (median of rounds)`;
      }
      console.log(line);
    }
  } finally {
    for (const w of workers) w.child.kill('SIGTERM');
    rmSync(repo, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
