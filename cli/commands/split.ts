// `grove split MODEL V=W ... [--sticky HEADER] [--shadow V:FRACTION] [--admin URL] [--token T]`
// sets a model's A/B split on a running gateway (PUT /admin/models/MODEL/split); with no V=W it
// prints the current split; `--clear` removes it (the model serves its latest version again).
// The token comes from --token or GROVE_ADMIN_TOKEN; without one nothing is sent. Weights are
// relative, so the answer is printed as the percentages they come to. Exit 0 on success, 2 when
// the gateway refused, cannot be reached, or the arguments are wrong (docs/cli.md, Exit status).
import { request } from 'undici';
import { GroveError } from '../../shared/errors/grove-error.js';
import { EXIT_ERROR, EXIT_OK, refusal } from '../cli-errors.js';
import { parseCommandLine } from '../command-args.js';

const USAGE = `usage: grove split MODEL [V=W ...] [--sticky HEADER] [--shadow V:FRACTION] [--admin URL] [--token T] [--clear]

  V=W                version V gets weight W (weights are relative, >= 0, not all zero;
                     1=3 2=1 means 75% and 25%)
  --sticky HEADER    the same HEADER value always gets the same version while weights stand
  --shadow V:F       mirror fraction F of the traffic to version V (answers discarded, diffs in metrics)
  --admin URL        the gateway's admin listener (default: env GROVE_ADMIN_URL, else http://127.0.0.1:8081)
  --token T          admin bearer token (default: env GROVE_ADMIN_TOKEN; grove serve prints
                     'grove admin token: ...' at start unless you set one)
  --clear            remove the split
  --json             print the gateway's JSON answer instead of a summary
`;

/** Each version's share of the total weight, in percent (what relative weights come to). */
export function percentages(weights: Record<string, number>): Record<string, number> {
  let total = 0;
  for (const w of Object.values(weights)) total += w;
  const out: Record<string, number> = {};
  for (const [v, w] of Object.entries(weights)) out[v] = total > 0 ? (100 * w) / total : 0;
  return out;
}

/** `churn: version 1 75%, version 2 25%, sticky on x-user-id`: one line for a split answer. */
export function describeSplit(body: {
  model?: unknown;
  weights?: unknown;
  sticky?: unknown;
  shadow?: unknown;
  deleted?: unknown;
}): string {
  const model = String(body.model ?? '');
  if (body.deleted === true)
    return `${model}: split removed (config.json's default split applies, or the latest version serves everything)`;
  const weights = (body.weights ?? {}) as Record<string, number>;
  const pct = percentages(weights);
  const versions = Object.keys(weights).sort((a, b) => Number(a) - Number(b));
  const share = (p: number) => `${Number(p.toFixed(2))}%`;
  let line = `${model}: ${versions.map((v) => `version ${v} ${share(pct[v]!)}`).join(', ')}`;
  const sum = versions.reduce((s, v) => s + weights[v]!, 0);
  if (sum !== 100) line += ` (weights ${versions.map((v) => weights[v]).join(':')} are relative)`;
  line += typeof body.sticky === 'string' ? `, sticky on ${body.sticky}` : ', not sticky';
  const shadow = body.shadow as { version?: unknown; fraction?: unknown } | undefined;
  if (shadow && typeof shadow === 'object')
    line += `, shadow ${share(100 * Number(shadow.fraction))} to version ${String(shadow.version)}`;
  return line;
}

const OPTIONS = {
  sticky: { type: 'string' },
  shadow: { type: 'string' },
  admin: { type: 'string' },
  token: { type: 'string' },
  clear: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine('split', argv, OPTIONS, USAGE);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [model, ...pairs] = positionals;
  if (!model) {
    process.stderr.write(`grove split: MODEL is required\n\n${USAGE}`);
    return EXIT_ERROR;
  }
  const weights: Record<string, number> = {};
  for (const p of pairs) {
    const m = /^([0-9]+)=([0-9]*\.?[0-9]+)$/.exec(p);
    if (!m) {
      process.stderr.write(`grove split: '${p}' is not VERSION=WEIGHT\n`);
      return EXIT_ERROR;
    }
    weights[m[1]!] = Number(m[2]);
  }
  const body: Record<string, unknown> = { weights };
  if (typeof values.sticky === 'string') body.sticky = values.sticky;
  if (typeof values.shadow === 'string') {
    const m = /^([0-9]+):([0-9]*\.?[0-9]+)$/.exec(values.shadow);
    if (!m) {
      process.stderr.write(`grove split: --shadow must be VERSION:FRACTION\n`);
      return EXIT_ERROR;
    }
    body.shadow = { version: m[1], fraction: Number(m[2]) };
  }
  const admin = (
    (values.admin as string | undefined) ??
    process.env.GROVE_ADMIN_URL ??
    'http://127.0.0.1:8081'
  ).replace(/\/+$/, '');
  const token = (values.token as string | undefined) || process.env.GROVE_ADMIN_TOKEN || '';
  if (!token) {
    // Sending a request bound to fail teaches nothing: say where the token comes from.
    throw new GroveError(
      "no admin token: pass --token T or set GROVE_ADMIN_TOKEN (grove serve prints 'grove admin token: ...' at start and writes it to <models>/.grove/admin-token, unless you gave it one with --admin-token or GROVE_ADMIN_TOKEN)",
      'GROVE_ERR_UNAUTHORIZED',
    );
  }
  const method = values.clear ? 'DELETE' : pairs.length ? 'PUT' : 'GET';
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(`${admin}/admin/models/${encodeURIComponent(model)}/split`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: method === 'PUT' ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new GroveError(
      `cannot reach the gateway's admin listener at ${admin} (${(err as Error).message}); is grove serve running, and is --admin right?`,
      'GROVE_ERR_UNREACHABLE',
    );
  }
  const text = await res.body.text();
  if (res.statusCode !== 200) throw refusal('the gateway', text);
  let answer: Record<string, unknown> | null = null;
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    answer = null;
  }
  if (values.json || answer === null) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  else process.stdout.write(`${describeSplit(answer)}\n`);
  return EXIT_OK;
}
