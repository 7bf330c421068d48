// `grove profile --model FILE --data train.csv [--label COL] [--bins 10] --output profile.json`
// (docs/monitoring.md, Training profile): writes the training profile the worker's drift monitor compares live
// traffic with. Keep it as models/{m}/{v}/profile.json.
import { writeFile } from 'node:fs/promises';
import { profileModelFile } from '../../shared/profile/profile-model.js';
import { checkInputFile } from '../cli-errors.js';
import { parseCommandArgs } from '../command-args.js';

const USAGE = `usage: grove profile --model FILE --data train.csv [--label COL] [--bins N] --output profile.json

  --model FILE     model file (XGBoost, LightGBM, scikit-learn, .grove)
  --data CSV       training rows, header of feature names, empty field = missing
  --label COL      the label column (left out of the features; its mean is recorded)
  --bins N         quantile bins per numeric feature (default 10)
  --output FILE    where to write profile.json (default: stdout)
`;

const OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  label: { type: 'string' },
  bins: { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('profile', argv, OPTIONS, USAGE);
  if (typeof args === 'number') return args;
  if (!args.model || !args.data) {
    process.stderr.write(`grove profile: --model and --data are required\n\n${USAGE}`);
    return 2;
  }
  const bins = args.bins === undefined ? 10 : Number(args.bins);
  if (!Number.isInteger(bins) || bins < 2 || bins > 100) {
    process.stderr.write('grove profile: --bins must be an integer from 2 to 100\n');
    return 2;
  }
  // Failures go to the one CLI error path (cli-errors.ts): a coded line, exit 2.
  checkInputFile(args.model, '--model', 'model');
  checkInputFile(args.data, '--data');
  const profile = await profileModelFile(args.model, args.data, { label: args.label, bins });
  const text = `${JSON.stringify(profile, null, 1)}\n`;
  if (args.output) {
    await writeFile(args.output, text);
    process.stderr.write(
      `grove profile: wrote ${args.output} (${profile.features.length} features, ${profile.rows} rows)\n`,
    );
  } else process.stdout.write(text);
  return 0;
}
