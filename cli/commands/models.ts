// `grove models list|load|unload` against a running worker (or, later, a gateway) through the
// model repository API (Triton's extension): `list` prints every model version and its state,
// `load MODEL [--config FILE] [--file VERSION=PATH ...]` loads (uploading a config and model
// files when given) and waits for the outcome, `unload MODEL` takes a model out of service.
// The token comes from --token or GROVE_ADMIN_TOKEN. Exit 0 on success, 2 when the server
// refused, cannot be reached, or the arguments are wrong (docs/cli.md, Exit status).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { request } from 'undici';
import { GroveError } from '../../shared/errors/grove-error.js';
import { refusal } from '../cli-errors.js';
import { parseCommandLine } from '../command-args.js';

const USAGE = `usage: grove models list|load|unload [MODEL] --url URL [--token T] [options]

  list                     every model version and its state (READY, LOADING, FAILED, UNAVAILABLE)
  load MODEL               load or reload MODEL from the repository and wait for the outcome
    --config FILE          send FILE as the model's config.json
    --file VERSION=PATH    send the model file PATH as version VERSION (its name is kept: model.json,
                           model.ubj, model.txt, model.joblib, model.pkl, model.grove or profile.json);
                           repeat for several files
  unload MODEL             stop serving MODEL (its files stay; 'load' brings it back)
  --url URL                the worker (default http://127.0.0.1:8000)
  --token T                bearer token (default: env GROVE_ADMIN_TOKEN)
`;

function fail(msg: string): number {
  process.stderr.write(`grove models: ${msg}\n\n${USAGE}`);
  return 2;
}

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  config: { type: 'string' },
  file: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine('models', argv, OPTIONS, USAGE);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [action, model] = positionals;
  if (action !== 'list' && action !== 'load' && action !== 'unload') return fail('say list, load or unload');
  if (action !== 'list' && !model) return fail(`${action} needs a MODEL`);
  const url = ((values.url as string | undefined) ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');
  const token = (values.token as string | undefined) ?? process.env.GROVE_ADMIN_TOKEN ?? '';
  let path: string;
  let body: Record<string, unknown> = {};
  if (action === 'list') path = '/v2/repository/index';
  else {
    path = `/v2/repository/models/${encodeURIComponent(model!)}/${action}`;
    if (action === 'load') {
      const parameters: Record<string, string> = {};
      // A file that cannot be read goes to the one CLI error path (cli-errors.ts).
      if (typeof values.config === 'string') parameters.config = readFileSync(values.config, 'utf8');
      for (const spec of (values.file as string[] | undefined) ?? []) {
        const m = /^([0-9]+)=(.+)$/.exec(spec);
        if (!m) return fail(`--file '${spec}' is not VERSION=PATH`);
        parameters[`file:${m[1]}/${basename(m[2]!)}`] = readFileSync(m[2]!).toString('base64');
      }
      if (Object.keys(parameters).length > 0) body = { parameters };
    }
  }
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  } catch (err) {
    throw new GroveError(`cannot reach ${url}: ${(err as Error).message}`, 'GROVE_ERR_UNREACHABLE');
  }
  const text = await res.body.text();
  if (res.statusCode !== 200) throw refusal('the worker', text);
  if (action === 'list') {
    const rows = JSON.parse(text) as Array<{
      name: string;
      version?: string;
      state: string;
      reason?: string;
    }>;
    for (const r of rows) {
      process.stdout.write(
        `${r.name.padEnd(24)} ${(r.version ?? '-').padEnd(8)} ${r.state.padEnd(12)} ${r.reason ?? ''}\n`.trimEnd() +
          '\n',
      );
    }
  } else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return 0;
}
