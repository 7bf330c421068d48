// `npm run bench`: grove's tree predictor beside the libraries' own predictors, in the same run.
// For each fixture it alternates rounds of `grove bench` and each peer (xgboost_native.py,
// lightgbm_native.py, onnxruntime.mjs from --peers DIR) so load on a shared machine hits all
// of them alike, takes medians over rounds, and prints ratios grove/peer (< 1: grove is faster).
// A missing peer is skipped with the command that installs it. Options: --rounds N (default 3),
// --rows N (default 20000), --peers DIR, --fixtures DIR, --kernels js,wasm (grove's tree kernel per
// run via GROVE_KERNEL, shared/runtime/trees/tree-model.ts; default: the one grove picks).
// A second table times per-feature contributions (`grove bench --contributions`, TreeSHAP) beside
// the libraries' own (cli/bench-peers/native_contribs.py: XGBoost pred_contribs, LightGBM
// pred_contrib), on --contrib-rows rows (default 2000: the peers take hundreds of us per row).
// --only predict|contributions runs one table.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { builtFile, projectRoot } from '../shared/runtime-path.js';

const exec = promisify(execFile);

interface Fixture {
  name: string;
  dir: string;
  model: string;
  peers: PeerName[];
}
type PeerName = 'xgboost-native' | 'lightgbm-native' | 'onnxruntime-node';

interface Sample {
  batch: number;
  /** ns per one-row call */
  single: number;
  /** CPU ns per row (contributions table), when reported */
  batchCpu?: number;
  singleCpu?: number;
}

const FIXTURES: Array<[string, string, string, PeerName[]]> = [
  ['xgboost', 'xgb-binary-100x4', 'model.json', ['xgboost-native', 'onnxruntime-node']],
  ['xgboost', 'xgb-binary-500x8', 'model.json', ['xgboost-native', 'onnxruntime-node']],
  ['lightgbm', 'lgb-binary-100x4', 'model.txt', ['lightgbm-native']],
  ['lightgbm', 'lgb-binary-500x8', 'model.txt', ['lightgbm-native']],
  ['lightgbm', 'lgb-regression', 'model.txt', ['lightgbm-native']],
  // The rest of the LightGBM fixtures, so the LightGBM figure covers all of them: 3-class softmax,
  // categorical splits and MissingType::None with unseen NaNs.
  ['lightgbm', 'lgb-multiclass', 'model.txt', ['lightgbm-native']],
  ['lightgbm', 'lgb-categorical', 'model.txt', ['lightgbm-native']],
  ['lightgbm', 'lgb-nan-unseen', 'model.txt', ['lightgbm-native']],
];

const PY = '/usr/bin/python3';

async function peerAvailable(peer: PeerName, peersDir: string): Promise<string | null> {
  try {
    if (peer === 'xgboost-native') await exec(PY, ['-c', 'import xgboost, numpy']);
    if (peer === 'lightgbm-native') {
      await exec(PY, ['-c', 'import numpy']);
      if (!existsSync(join(peersDir, 'lib', 'lib_lightgbm-4.5.0.so')))
        return `missing ${join(peersDir, 'lib')}/lib_lightgbm-4.5.0.so`;
    }
    if (peer === 'onnxruntime-node') {
      await exec(process.execPath, ['-e', "require.resolve('onnxruntime-node')"], { cwd: projectRoot });
    }
    return null;
  } catch {
    if (peer === 'xgboost-native') return 'install it: apt-get install -y python3-xgboost python3-pandas';
    if (peer === 'lightgbm-native') return 'install numpy: apt-get install -y python3-numpy';
    return 'install it: npm install --no-save --ignore-scripts onnxruntime-node';
  }
}

function field(line: string, key: string): number {
  const m = new RegExp(`${key}=([0-9.]+)`).exec(line);
  if (!m) throw new Error(`no ${key} in: ${line}`);
  return Number(m[1]);
}

async function runGrove(f: Fixture, rows: number, kernel = 'auto', contributions = false): Promise<Sample> {
  const env = kernel === 'auto' ? process.env : { ...process.env, GROVE_KERNEL: kernel };
  const { stdout } = await exec(
    process.execPath,
    [
      builtFile('cli/grove.js'),
      'bench',
      '--model',
      join(f.dir, f.model),
      '--input',
      join(f.dir, 'test.csv'),
      '--rows',
      String(rows),
      ...(contributions ? ['--contributions', '--rounds', '3'] : []),
    ],
    { env },
  );
  const last = stdout.trim().split('\n').at(-1)!;
  const s: Sample = { batch: field(last, 'batch_ns_per_row'), single: field(last, 'single_ns_per_row') };
  if (contributions) {
    s.batchCpu = field(last, 'batch_cpu_ns_per_row');
    s.singleCpu = field(last, 'single_cpu_ns_per_row');
  }
  return s;
}

async function runPeer(peer: PeerName, f: Fixture, rows: number, peersDir: string): Promise<Sample | null> {
  if (peer === 'onnxruntime-node' && !existsSync(join(f.dir, 'model.onnx'))) return null;
  const args = ['--rows', String(rows)];
  const { stdout } =
    peer === 'onnxruntime-node'
      ? await exec(process.execPath, [join(peersDir, 'onnxruntime.mjs'), f.dir, ...args], {
          cwd: projectRoot,
        })
      : await exec(PY, [
          join(peersDir, peer === 'xgboost-native' ? 'xgboost_native.py' : 'lightgbm_native.py'),
          f.dir,
          ...args,
        ]);
  const last = stdout.trim().split('\n').at(-1)!;
  const singleUs = /single_us_per_call=([0-9.]+)/.exec(last);
  return {
    batch: field(last, 'batch_ns_per_row'),
    single: singleUs ? Number(singleUs[1]) * 1000 : Number.NaN,
  };
}

/** The library's own contributions on one thread (cli/bench-peers/native_contribs.py). */
async function runContribPeer(peer: PeerName, f: Fixture, rows: number, peersDir: string): Promise<Sample> {
  const lib = peer === 'xgboost-native' ? 'xgboost' : 'lightgbm';
  const args = [
    join(projectRoot, 'cli', 'bench-peers', 'native_contribs.py'),
    lib,
    f.dir,
    '--rows',
    String(rows),
  ];
  if (lib === 'lightgbm') args.push('--lib', join(peersDir, 'lib', 'lib_lightgbm-4.5.0.so'));
  const { stdout } = await exec(PY, args);
  const last = stdout.trim().split('\n').at(-1)!;
  return {
    batch: field(last, 'batch_ns_per_row'),
    single: field(last, 'single_us_per_call') * 1000,
    batchCpu: field(last, 'batch_cpu_ns_per_row'),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : Number.NaN;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      rows: { type: 'string', default: '20000' },
      peers: { type: 'string' },
      fixtures: { type: 'string' },
      kernels: { type: 'string', default: 'auto' },
      'contrib-rows': { type: 'string', default: '2000' },
      only: { type: 'string' },
    },
  });
  const kernels = values.kernels.split(',').filter(Boolean);
  const rounds = Math.max(1, Number(values.rounds));
  const rows = Math.max(100, Number(values.rows));
  // Default --peers / --fixtures: the folder beside the repository that holds the peer scripts and
  // the ONNX twins of the fixtures, when it exists (a benchmark, unlike a test, may need it).
  const shared = resolve(projectRoot, '..', 'shared');
  const peersDir = values.peers ?? join(shared, 'peers');
  const fixturesRoot =
    values.fixtures ??
    (existsSync(join(shared, 'fixtures')) ? join(shared, 'fixtures') : join(projectRoot, 'test', 'fixtures'));
  const skip = new Map<PeerName, string>();
  for (const p of ['xgboost-native', 'lightgbm-native', 'onnxruntime-node'] as PeerName[]) {
    if (!existsSync(peersDir)) skip.set(p, `peers folder ${peersDir} not found (use --peers DIR)`);
    else {
      const why = await peerAvailable(p, peersDir);
      if (why) skip.set(p, why);
    }
  }
  for (const [p, why] of skip) console.log(`skipping peer ${p}: ${why}`);
  const ctx: SuiteContext = { rounds, peersDir, fixturesRoot, skip };
  if (values.only !== 'contributions') {
    console.log(
      `rows=${rows} rounds=${rounds}; one thread each; medians over rounds (machine may be loaded)\n`,
    );
    await predictTable(ctx, rows, kernels);
  }
  if (values.only !== 'predict') {
    const contribRows = Math.max(100, Number(values['contrib-rows']));
    console.log(
      `\ncontributions: rows=${contribRows} rounds=${rounds}; one thread each; medians over rounds\n`,
    );
    await contributionTable(ctx, contribRows);
  }
}

interface SuiteContext {
  rounds: number;
  peersDir: string;
  fixturesRoot: string;
  skip: Map<PeerName, string>;
}

function printTable(header: string[], table: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(fmt(header));
  for (const r of table) console.log(fmt(r));
}

async function predictTable(ctx: SuiteContext, rows: number, kernels: string[]): Promise<void> {
  const { rounds, peersDir, fixturesRoot, skip } = ctx;
  const header = [
    'fixture',
    'kernel',
    'grove batch ns/row',
    'grove 1-row ns',
    'peer',
    'peer batch ns/row',
    'peer 1-row ns',
    'batch ratio',
    '1-row ratio',
  ];
  const table: string[][] = [];
  for (const [lib, name, model, peers] of FIXTURES) {
    const f: Fixture = { name, dir: join(fixturesRoot, lib, name), model, peers };
    if (!existsSync(join(f.dir, model))) {
      console.log(`skipping ${name}: ${join(f.dir, model)} not found`);
      continue;
    }
    const gk = new Map<string, Sample[]>(kernels.map((k) => [k, []]));
    const p = new Map<PeerName, Sample[]>();
    for (let k = 0; k < rounds; k++) {
      for (const kernel of kernels) gk.get(kernel)!.push(await runGrove(f, rows, kernel));
      for (const peer of peers) {
        if (skip.has(peer)) continue;
        try {
          const s = await runPeer(peer, f, rows, peersDir);
          if (s) p.set(peer, [...(p.get(peer) ?? []), s]);
        } catch (err) {
          skip.set(peer, `failed: ${(err as Error).message.split('\n')[0]}`);
          console.log(`skipping peer ${peer}: ${skip.get(peer)}`);
        }
      }
    }
    for (const [kernel, g] of gk) {
      const gb = median(g.map((s) => s.batch));
      const gs = median(g.map((s) => s.single));
      if (p.size === 0) table.push([name, kernel, gb.toFixed(0), gs.toFixed(0), '-', '-', '-', '-', '-']);
      for (const [peer, samples] of p) {
        const pb = median(samples.map((s) => s.batch));
        const ps = median(samples.map((s) => s.single));
        table.push([
          name,
          kernel,
          gb.toFixed(0),
          gs.toFixed(0),
          peer,
          pb.toFixed(0),
          ps.toFixed(0),
          (gb / pb).toFixed(2),
          (gs / ps).toFixed(3),
        ]);
      }
    }
  }
  printTable(header, table);
  console.log(
    '\nratio = grove / peer (below 1: grove is faster). Peer one-row figures include their call overhead (Python ctypes / N-API).',
  );
}

/**
 * Contributions beside the library's own, alternating rounds as the predict table does. Peers:
 * XGBoost's pred_contribs for the XGBoost fixtures, LightGBM's pred_contrib for LightGBM's.
 */
async function contributionTable(ctx: SuiteContext, rows: number): Promise<void> {
  const { rounds, peersDir, fixturesRoot, skip } = ctx;
  const header = [
    'fixture',
    'grove batch us/row',
    'cpu',
    'grove 1-row us',
    'cpu',
    'peer',
    'peer batch us/row',
    'cpu',
    'peer 1-row us',
    'batch ratio',
    'cpu ratio',
  ];
  const table: string[][] = [];
  for (const [lib, name, model] of FIXTURES) {
    const peer: PeerName = lib === 'xgboost' ? 'xgboost-native' : 'lightgbm-native';
    const f: Fixture = { name, dir: join(fixturesRoot, lib, name), model, peers: [peer] };
    if (!existsSync(join(f.dir, model))) continue;
    const g: Sample[] = [];
    const p: Sample[] = [];
    for (let k = 0; k < rounds; k++) {
      g.push(await runGrove(f, rows, 'auto', true));
      if (skip.has(peer)) continue;
      try {
        p.push(await runContribPeer(peer, f, rows, peersDir));
      } catch (err) {
        skip.set(peer, `failed: ${(err as Error).message.split('\n')[0]}`);
        console.log(`skipping peer ${peer}: ${skip.get(peer)}`);
      }
    }
    const us = (x: number) => (x / 1000).toFixed(1);
    const gb = median(g.map((s) => s.batch));
    const gbc = median(g.map((s) => s.batchCpu!));
    const gs = median(g.map((s) => s.single));
    const gsc = median(g.map((s) => s.singleCpu!));
    if (p.length === 0) {
      table.push([name, us(gb), us(gbc), us(gs), us(gsc), '-', '-', '-', '-', '-', '-']);
      continue;
    }
    const pb = median(p.map((s) => s.batch));
    const pbc = median(p.map((s) => s.batchCpu!));
    const ps = median(p.map((s) => s.single));
    const peerName = peer === 'xgboost-native' ? 'xgboost pred_contribs' : 'lightgbm pred_contrib';
    table.push([
      name,
      us(gb),
      us(gbc),
      us(gs),
      us(gsc),
      peerName,
      us(pb),
      us(pbc),
      us(ps),
      (gb / pb).toFixed(2),
      (gbc / pbc).toFixed(2),
    ]);
  }
  printTable(header, table);
  console.log(
    '\nratio = grove / library (below 1: grove is faster), on wall time and on CPU time (user + system of each process: steadier when the machine is shared). Peer one-row figures include the Python call (and XGBoost building a DMatrix).',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
