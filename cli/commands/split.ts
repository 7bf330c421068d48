// `grove split MODEL V=W ... [--sticky HEADER] [--shadow V:FRACTION] [--admin URL] [--token T]`
// sets a model's A/B split on a running gateway (PUT /admin/models/MODEL/split); with no V=W it
// prints the current split; `--clear` removes it (the model serves its latest version again).
// The token comes from --token or GROVE_ADMIN_TOKEN. Exit 0 on success, 1 if the gateway refused,
// 2 on usage errors or when the gateway cannot be reached.
import { parseArgs } from 'node:util';
import { request } from 'undici';

const USAGE = `usage: grove split MODEL [V=W ...] [--sticky HEADER] [--shadow V:FRACTION] [--admin URL] [--token T] [--clear]

  V=W                version V gets weight W (weights are relative, >= 0, not all zero)
  --sticky HEADER    the same HEADER value always gets the same version while weights stand
  --shadow V:F       mirror fraction F of the traffic to version V (answers discarded, diffs in metrics)
  --admin URL        the gateway's admin listener (default http://127.0.0.1:8081)
  --token T          admin bearer token (default: env GROVE_ADMIN_TOKEN)
  --clear            remove the split
`;

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        sticky: { type: 'string' },
        shadow: { type: 'string' },
        admin: { type: 'string' },
        token: { type: 'string' },
        clear: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`grove split: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [model, ...pairs] = positionals;
  if (!model) {
    process.stderr.write(`grove split: MODEL is required\n\n${USAGE}`);
    return 2;
  }
  const weights: Record<string, number> = {};
  for (const p of pairs) {
    const m = /^([0-9]+)=([0-9]*\.?[0-9]+)$/.exec(p);
    if (!m) {
      process.stderr.write(`grove split: '${p}' is not VERSION=WEIGHT\n`);
      return 2;
    }
    weights[m[1]!] = Number(m[2]);
  }
  const body: Record<string, unknown> = { weights };
  if (typeof values.sticky === 'string') body.sticky = values.sticky;
  if (typeof values.shadow === 'string') {
    const m = /^([0-9]+):([0-9]*\.?[0-9]+)$/.exec(values.shadow);
    if (!m) {
      process.stderr.write(`grove split: --shadow must be VERSION:FRACTION\n`);
      return 2;
    }
    body.shadow = { version: m[1], fraction: Number(m[2]) };
  }
  const admin = ((values.admin as string | undefined) ?? 'http://127.0.0.1:8081').replace(/\/+$/, '');
  const token = (values.token as string | undefined) ?? process.env.GROVE_ADMIN_TOKEN ?? '';
  const method = values.clear ? 'DELETE' : pairs.length ? 'PUT' : 'GET';
  try {
    const res = await request(`${admin}/admin/models/${encodeURIComponent(model)}/split`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: method === 'PUT' ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    (res.statusCode === 200 ? process.stdout : process.stderr).write(
      text.endsWith('\n') ? text : `${text}\n`,
    );
    return res.statusCode === 200 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`grove split: cannot reach ${admin}: ${(err as Error).message}\n`);
    return 2;
  }
}
