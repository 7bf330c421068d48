// Kernel-vs-kernel benchmark on one thread: the JavaScript and WebAssembly kernels of the same
// model, measured in alternating rounds of the same process so the load of this shared machine
// hits both alike; prints the best round of each (batch ns/row and one-row ns per call) in CPU
// time (process.cpuUsage), which on an oversubscribed machine is far steadier than wall time.
//   node dist/shared/runtime/trees/wasm/bench-kernels.js MODEL CSV [--rows N] [--rounds K]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Container } from '../../container.js';
import { loadModelFile } from '../../load.js';
import { type KernelChoice, TreeModel } from '../tree-model.js';

function readRows(csv: string, F: number): Float64Array {
  const lines = readFileSync(csv, 'utf8').trim().split('\n').slice(1);
  const x = new Float64Array(lines.length * F);
  lines.forEach((l, r) => {
    l.split(',').forEach((v, f) => {
      x[r * F + f] = v === '' ? Number.NaN : Number(v);
    });
  });
  return x;
}

function cpuNs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) * 1000;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { rows: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '15' } },
  });
  const [file, csv] = positionals;
  if (!file || !csv) throw new Error('usage: bench-kernels MODEL CSV [--rows N] [--rounds K]');
  const base = await loadModelFile(file);
  const F = base.meta.numFeatures;
  const W = base.meta.outputNames.length;
  const fileRows = readRows(csv, F);
  const n = fileRows.length / F;
  const rows = Number(values.rows);
  const input = new Float64Array(rows * F);
  for (let r = 0; r < rows; r++) input.set(fileRows.subarray((r % n) * F, (r % n) * F + F), r * F);
  const out = new Float64Array(rows * W);
  const kinds: KernelChoice[] = ['js', 'wasm'];
  const models = kinds.map((k) => new TreeModel(new Container(base.buffer), undefined, k));
  const views = Array.from({ length: Math.min(rows, 2000) }, (_, r) => input.subarray(r * F, r * F + F));
  const one = new Float64Array(W);
  const best = kinds.map(() => ({ batch: Infinity, single: Infinity }));
  for (let round = 0; round < Number(values.rounds); round++) {
    models.forEach((m, i) => {
      let t0 = process.cpuUsage();
      m.predict(input, rows, out);
      best[i]!.batch = Math.min(best[i]!.batch, cpuNs(t0) / rows);
      t0 = process.cpuUsage();
      for (let k = 0; k < 5; k++) for (const v of views) m.predictOne(v, one);
      best[i]!.single = Math.min(best[i]!.single, cpuNs(t0) / (5 * views.length));
    });
  }
  for (const [i, m] of models.entries())
    console.log(
      `${m.kernel.padEnd(4)} batch_ns_per_row=${best[i]!.batch.toFixed(0)} single_ns_per_row=${best[i]!.single.toFixed(0)}`,
    );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
