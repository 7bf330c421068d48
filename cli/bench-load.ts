// `npm run bench:load [-- --builds DIR[,DIR...]] [--rounds N] [--fixtures DIR]`: how long loading the
// real fixtures takes, per build, in the same run. Each build is a project root with a dist/; the
// default is this one. Two figures per fixture and build, medians over rounds that alternate
// between builds (so a loaded machine hits them alike), each round a fresh process:
//   in-process  loadModel + modelFromBuffer: the decode-and-compile work a worker always did per
//               load (in a pool thread, then on its event loop);
//   worker path what a worker does now: ModelLoader.load through a warm load host (read, decode and
//               check in the host's thread, copy back, check again, compile), when the build
//               has shared/runtime/isolation; builds without it load in-process, so this equals
//               their in-process figure.
// Wall-clock milliseconds (performance.now), one load at a time.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { projectRoot } from '../shared/runtime-path.js';

const exec = promisify(execFile);
const MODEL = /^model\.(json|ubj|txt|pkl|joblib|grove)$/;
const LOADS = 5;

interface Sample {
  inProcess: number;
  workerPath: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : Number.NaN;
};

/** Child mode: loads `file` LOADS times each way with `root`'s build, prints medians as JSON. */
async function measure(root: string, file: string): Promise<void> {
  const dist = (rel: string) => pathToFileURL(join(root, 'dist', rel)).href;
  const load = (await import(dist('shared/runtime/load.js'))) as typeof import('../shared/runtime/load.js');
  const bytes = new Uint8Array(readFileSync(file));
  const inProcess: number[] = [];
  for (let k = 0; k < LOADS + 1; k++) {
    const t0 = performance.now();
    const m = load.loadModel(bytes, { fileName: basename(file) });
    load.modelFromBuffer(m.buffer);
    if (k > 0) inProcess.push(performance.now() - t0); // the first compiles the decoders
  }
  let workerPath = median(inProcess);
  const isolation = join(root, 'dist', 'shared', 'runtime', 'isolation', 'model-loader.js');
  if (existsSync(isolation)) {
    const { ModelLoader } = (await import(
      pathToFileURL(isolation).href
    )) as typeof import('../shared/runtime/isolation/model-loader.js');
    const loader = new ModelLoader({ hosts: 1 });
    const times: number[] = [];
    for (let k = 0; k < LOADS + 1; k++) {
      const t0 = performance.now();
      await loader.load(file);
      if (k > 0) times.push(performance.now() - t0); // the first starts the host
    }
    await loader.close();
    workerPath = median(times);
  }
  process.stdout.write(`${JSON.stringify({ inProcess: median(inProcess), workerPath })}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      builds: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      fixtures: { type: 'string' },
      measure: { type: 'string' },
      file: { type: 'string' },
    },
  });
  if (values.measure && values.file) return measure(values.measure, values.file);
  const builds = (values.builds ?? projectRoot).split(',').map((b) => resolve(b));
  const rounds = Math.max(1, Number(values.rounds));
  const shared = resolve(projectRoot, '..', 'shared', 'fixtures');
  const root = values.fixtures ?? (existsSync(shared) ? shared : join(projectRoot, 'test', 'fixtures'));
  const files: string[] = [];
  for (const lib of ['xgboost', 'lightgbm', 'sklearn']) {
    if (!existsSync(join(root, lib))) continue;
    for (const d of readdirSync(join(root, lib)).sort())
      for (const f of readdirSync(join(root, lib, d)).filter((n) => MODEL.test(n)))
        files.push(join(root, lib, d, f));
  }
  const self = join(projectRoot, 'dist', 'cli', 'bench-load.js');
  const results = new Map<string, Sample[]>();
  for (let r = 0; r < rounds; r++)
    for (const file of files)
      for (const b of builds) {
        const { stdout } = await exec(process.execPath, [self, '--measure', b, '--file', file]);
        const key = `${file}\0${b}`;
        results.set(key, [...(results.get(key) ?? []), JSON.parse(stdout) as Sample]);
      }
  console.log(
    `load time, ms (median of ${rounds} processes x ${LOADS} loads); builds: ${builds.join(', ')}\n`,
  );
  const header = ['fixture', ...builds.flatMap((_, i) => [`in-process #${i + 1}`, `worker path #${i + 1}`])];
  const rows = files.map((file) => [
    file.slice(root.length + 1),
    ...builds.flatMap((b) => {
      const s = results.get(`${file}\0${b}`)!;
      return [median(s.map((x) => x.inProcess)).toFixed(2), median(s.map((x) => x.workerPath)).toFixed(2)];
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(header));
  for (const row of rows) console.log(fmt(row));
  if (builds.length > 1) {
    const total = (b: string, k: keyof Sample) =>
      files.reduce((a, f) => a + median(results.get(`${f}\0${b}`)!.map((x) => x[k])), 0);
    console.log('\nsum over fixtures, ms:');
    for (const b of builds)
      console.log(
        `  ${b}: in-process ${total(b, 'inProcess').toFixed(1)}, worker path ${total(b, 'workerPath').toFixed(1)}`,
      );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
