// `grove export --model FILE --output model.mjs [--target esm|cjs]`: writes the model as ONE
// self-contained JavaScript module with no imports (client/export/export-module.ts), for browsers,
// Node, Deno, Bun and edge runtimes: `import { predict, meta } from './model.mjs'`. docs/client.md.
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { exportModule } from '../../client/export/export-module.js';
import { modelFromBytes } from '../../client/model-bytes.js';
import { readSource } from '../../client/read-source.js';
import { checkInputFile } from '../cli-errors.js';
import { parseCommandArgs } from '../command-args.js';

const USAGE = `usage: grove export --model FILE --output OUT.mjs [--target esm|cjs]

  --model FILE    any model file grove reads (XGBoost, LightGBM, scikit-learn, .grove)
  --output OUT    the module to write (one file, no imports)
  --target T      esm (default): an ES module (export const predict, ...);
                  cjs: a CommonJS module (module.exports = { predict, ... })
`;

const OPTIONS = {
  model: { type: 'string' },
  output: { type: 'string' },
  target: { type: 'string', default: 'esm' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('export', argv, OPTIONS, USAGE);
  if (typeof args === 'number') return args;
  if (!args.model || !args.output) {
    process.stderr.write(`grove export: --model and --output are required\n\n${USAGE}`);
    return 2;
  }
  const target = args.target;
  if (target !== 'esm' && target !== 'cjs') {
    process.stderr.write(`grove export: --target is esm or cjs, not '${target}'\n\n${USAGE}`);
    return 2;
  }
  // Failures go to the one CLI error path (cli-errors.ts): a coded line, exit 2.
  checkInputFile(args.model, '--model', 'model');
  const { bytes, fileName } = await readSource(args.model);
  const { model, sha256 } = modelFromBytes(bytes, fileName);
  const out = exportModule(model, sha256, target);
  await writeFile(args.output, out.text);
  const kernel =
    out.wasmBytes > 0 ? 'WebAssembly, JavaScript fallback' : out.jsKernels > 0 ? 'JavaScript' : 'linear';
  process.stderr.write(
    `grove export: wrote ${args.output} (${out.text.length} bytes, ${gzipSync(out.text).length} gzipped; kernel: ${kernel})\n`,
  );
  return 0;
}
