// `grove jobs submit|status|results|cancel|list` (docs/jobs.md): the client of a gateway's durable
// prediction jobs. `submit` streams the input file (never read whole) and, with --wait, follows the
// job to its end with a progress bar on a terminal. Exit 0 on success, 1 when the gateway refused
// or the job failed or was cancelled, 2 on usage errors or when the gateway cannot be reached.
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { request } from 'undici';

const USAGE = `usage: grove jobs <command> [options]

  submit --model M --input ROWS [--version V] [--key COL] [--on-error fail|skip] [--notify URL] [--wait]
                     upload ROWS (.csv with a header row, or .ndjson) as a job; --wait follows it to its end
  status ID          the job's state and progress
  results ID [--output FILE] [--format csv|ndjson]
                     a succeeded job's predictions, in input order
  cancel ID          cancel a queued or running job
  list [--model M] [--status S] [--limit N]
                     jobs, newest first

  --url URL          the gateway (default: env GROVE_URL, else http://127.0.0.1:8080)
`;

const OPTIONS = {
  url: { type: 'string' },
  model: { type: 'string' },
  version: { type: 'string' },
  input: { type: 'string' },
  key: { type: 'string' },
  'on-error': { type: 'string' },
  notify: { type: 'string' },
  wait: { type: 'boolean' },
  output: { type: 'string' },
  format: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = Record<string, string | boolean | undefined>;

class Unreachable extends Error {}

interface Job {
  id: string;
  status: string;
  rows_total: number | null;
  rows_done: number;
  error: string | null;
}

export async function run(argv: string[]): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`grove jobs: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command, id] = positionals;
  if (values.help || !command) {
    (values.help ? process.stdout : process.stderr).write(USAGE);
    return values.help ? 0 : 2;
  }
  const base = (
    (values.url as string | undefined) ??
    process.env.GROVE_URL ??
    'http://127.0.0.1:8080'
  ).replace(/\/+$/, '');
  const needId = command === 'status' || command === 'results' || command === 'cancel';
  if (needId && !(id && /^[0-9]+$/.test(id))) {
    process.stderr.write(`grove jobs ${command}: give the job id\n\n${USAGE}`);
    return 2;
  }
  try {
    switch (command) {
      case 'submit':
        return await submit(base, values);
      case 'status':
        return await show(base, `/v1/jobs/${id}`, 'GET');
      case 'cancel':
        return await show(base, `/v1/jobs/${id}`, 'DELETE');
      case 'list': {
        const q = new URLSearchParams();
        for (const k of ['model', 'status', 'limit'] as const)
          if (typeof values[k] === 'string') q.set(k, values[k]);
        return await show(base, `/v1/jobs${q.size ? `?${q}` : ''}`, 'GET');
      }
      case 'results':
        return await results(base, id!, values);
      default:
        process.stderr.write(`grove jobs: unknown command '${command}'\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof Unreachable) {
      process.stderr.write(`grove jobs: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function call(base: string, path: string, init: Parameters<typeof request>[1] = {}) {
  try {
    return await request(base + path, init);
  } catch (err) {
    throw new Unreachable(`cannot reach ${base}: ${(err as Error).message}`);
  }
}

async function show(base: string, path: string, method: 'GET' | 'DELETE'): Promise<number> {
  const res = await call(base, path, { method });
  const text = await res.body.text();
  (res.statusCode === 200 ? process.stdout : process.stderr).write(text.endsWith('\n') ? text : `${text}\n`);
  return res.statusCode === 200 ? 0 : 1;
}

function bar(frac: number, text: string): void {
  if (!process.stderr.isTTY) return;
  const w = 30;
  const n = Math.max(0, Math.min(w, Math.round(frac * w)));
  process.stderr.write(
    `\r[${'#'.repeat(n)}${'.'.repeat(w - n)}] ${(frac * 100).toFixed(0).padStart(3)}% ${text}\x1b[K`,
  );
}

async function submit(base: string, v: Values): Promise<number> {
  const model = v.model as string | undefined;
  const input = v.input as string | undefined;
  if (!model || !input) {
    process.stderr.write(`grove jobs submit: --model and --input are required\n\n${USAGE}`);
    return 2;
  }
  const size = (await stat(input)).size;
  const ndjson = /\.(nd)?jsonl?$/i.test(input);
  const q = new URLSearchParams();
  if (typeof v.key === 'string') q.set('key', v.key);
  if (typeof v['on-error'] === 'string') q.set('on_error', v['on-error']);
  if (typeof v.notify === 'string') q.set('notify', v.notify);
  const m = encodeURIComponent(model);
  const path = `/v1/models/${m}${typeof v.version === 'string' ? `/versions/${encodeURIComponent(v.version)}` : ''}/jobs${q.size ? `?${q}` : ''}`;
  let sent = 0;
  async function* counted() {
    for await (const c of createReadStream(input!) as AsyncIterable<Buffer>) {
      sent += c.length;
      bar(
        size ? sent / size : 1,
        `uploading ${(sent / 2 ** 20).toFixed(1)} of ${(size / 2 ** 20).toFixed(1)} MiB`,
      );
      yield c;
    }
  }
  const res = await call(base, path, {
    method: 'POST',
    headers: { 'content-type': ndjson ? 'application/x-ndjson' : 'text/csv', 'content-length': String(size) },
    body: Readable.from(counted()),
  });
  const text = await res.body.text();
  if (res.statusCode !== 202) {
    if (process.stderr.isTTY) process.stderr.write('\n');
    process.stderr.write(`grove jobs submit: ${text}\n`);
    return 1;
  }
  let job = JSON.parse(text) as Job;
  if (v.wait) {
    while (job.status === 'queued' || job.status === 'running') {
      const total = job.rows_total ?? 0;
      bar(
        total ? job.rows_done / total : 0,
        `job ${job.id} ${job.status}: ${job.rows_done} of ${total} rows`,
      );
      await new Promise((r) => setTimeout(r, 500));
      const r = await call(base, `/v1/jobs/${job.id}`);
      job = (await r.body.json()) as Job;
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
  } else if (process.stderr.isTTY) process.stderr.write('\n');
  process.stdout.write(JSON.stringify(job) + '\n');
  return !v.wait || job.status === 'succeeded' ? 0 : 1;
}

async function results(base: string, id: string, v: Values): Promise<number> {
  const format = v.format as string | undefined;
  if (format !== undefined && format !== 'csv' && format !== 'ndjson') {
    process.stderr.write('grove jobs results: --format must be csv or ndjson\n');
    return 2;
  }
  const res = await call(base, `/v1/jobs/${id}/results`, {
    headers: { accept: format === 'ndjson' ? 'application/x-ndjson' : 'text/csv' },
  });
  if (res.statusCode !== 200) {
    process.stderr.write(`grove jobs results: ${await res.body.text()}\n`);
    return 1;
  }
  await pipeline(res.body, typeof v.output === 'string' ? createWriteStream(v.output) : process.stdout);
  return 0;
}
