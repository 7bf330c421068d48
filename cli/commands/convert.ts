// `grove convert --model IN --output OUT.grove`: writes grove's own binary file (shared/runtime/formats/
// grove-binary.ts), which loads with one read straight into shared memory. Options live in one
// table and the work in `convertModel`, so further options (a training profile, say) slot in.
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { profileModelFile } from '../../shared/profile/profile-model.js';
import { encodeGroveFile } from '../../shared/runtime/formats/grove-binary.js';
import { type LoadLimits, loadModelFileBounded } from '../../shared/runtime/isolation/model-loader.js';
import { checkInputFile } from '../cli-errors.js';
import { parseCommandArgs } from '../command-args.js';
import { LOAD_CLI_OPTIONS, LOAD_CLI_USAGE, loadLimitsFromArgs } from '../load-options.js';

const USAGE = `usage: grove convert --model IN --output OUT.grove [--profile train.csv [--label COL]]

  --model IN      any model file grove reads (XGBoost, LightGBM, scikit-learn, .grove)
  --output OUT    grove binary file to write
  --profile CSV   also write the training profile (drift monitoring) as profile.json beside OUT
  --label COL     the label column of the --profile data (left out of the features)
${LOAD_CLI_USAGE}`;

export const CONVERT_OPTIONS = {
  model: { type: 'string' },
  output: { type: 'string' },
  profile: { type: 'string' },
  label: { type: 'string' },
  ...LOAD_CLI_OPTIONS,
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Loads `input` (bounded and isolated, as a worker does) and writes it as a .grove file; returns the bytes written. */
export async function convertModel(
  input: string,
  output: string,
  limits?: Partial<LoadLimits>,
): Promise<number> {
  const model = await loadModelFileBounded(input, limits);
  const bytes = encodeGroveFile(model.buffer);
  await writeFile(output, bytes);
  return bytes.length;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('convert', argv, CONVERT_OPTIONS, USAGE);
  if (typeof args === 'number') return args;
  if (!args.model || !args.output) {
    process.stderr.write(`grove convert: --model and --output are required\n\n${USAGE}`);
    return 2;
  }
  // Failures go to the one CLI error path (cli-errors.ts): a coded line, exit 2.
  checkInputFile(args.model, '--model', 'model');
  if (args.profile) checkInputFile(args.profile, '--profile');
  const limits = loadLimitsFromArgs(args);
  const n = await convertModel(args.model, args.output, limits);
  process.stderr.write(`grove convert: wrote ${args.output} (${n} bytes)\n`);
  if (args.profile) {
    // The version folder then carries models/{m}/{v}/profile.json next to the model (docs/monitoring.md).
    const profile = await profileModelFile(args.model, args.profile, { label: args.label });
    const where = join(dirname(args.output), 'profile.json');
    await writeFile(where, `${JSON.stringify(profile, null, 1)}\n`);
    process.stderr.write(
      `grove convert: wrote ${where} (${profile.features.length} features, ${profile.rows} rows)\n`,
    );
  }
  return 0;
}
