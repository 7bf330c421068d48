// `npm run bench:import`: what `import { loadModel } from 'grove'` costs a Node application, next
// to importing grove's worker server entry: the wall time of the import in a fresh process
// (performance.now() around the dynamic import; median of alternating runs), the heap it adds, and
// how many modules it loads (counted by a module-resolution hook in a separate run, since the hook
// itself costs time).
//   node dist/client/bench/bench-import.js [--runs 9]
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { builtFile, projectRoot } from '../../shared/runtime-path.js';
import { modulesLoadedBy, packagesOf } from './loaded-modules.js';

const run = promisify(execFile);

const MEASURE = (spec: string) => `
const heap0 = process.memoryUsage().heapUsed;
const t0 = performance.now();
await import(${JSON.stringify(spec)});
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, heap: process.memoryUsage().heapUsed - heap0 }));`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function measure(spec: string): Promise<{ ms: number; heap: number }> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', MEASURE(spec)], {
    cwd: projectRoot,
  });
  return JSON.parse(stdout.trim()) as { ms: number; heap: number };
}

async function countModules(spec: string): Promise<{ grove: number; packages: string[]; builtins: number }> {
  const urls = await modulesLoadedBy(spec);
  return {
    grove: urls.filter((u) => u.startsWith('file:') && !u.includes('/node_modules/')).length,
    packages: packagesOf(urls),
    builtins: urls.filter((u) => u.startsWith('node:')).length,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' } } });
  const runs = Number(values.runs);
  const entries = [
    { name: "import 'grove' (the library)", spec: 'grove' },
    {
      name: 'the worker server entry (dist/worker/start-worker.js)',
      spec: pathToFileURL(builtFile('worker/start-worker.js')).href,
    },
  ];
  const times = entries.map(() => [] as { ms: number; heap: number }[]);
  for (let k = 0; k < runs; k++)
    for (let i = 0; i < entries.length; i++) times[i]!.push(await measure(entries[i]!.spec));
  console.log(`import cost in a fresh Node ${process.version} process, median of ${runs} alternating runs:`);
  for (let i = 0; i < entries.length; i++) {
    const c = await countModules(entries[i]!.spec);
    const ms = median(times[i]!.map((t) => t.ms));
    const heap = median(times[i]!.map((t) => t.heap)) / 1024 / 1024;
    console.log(
      `  ${entries[i]!.name}: ${ms.toFixed(1)} ms, +${heap.toFixed(1)} MiB heap; ${c.grove} grove modules, ` +
        `${c.builtins} node: builtins, npm packages: ${c.packages.length ? c.packages.join(', ') : 'none'}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
