// `grove pull --url URL --to DIR --sha256 HEX` (or `--list FILE`): downloads model files over
// HTTP(S) into a model repository folder, the init step of a Kubernetes pod whose models live in an
// object store or on a web server (docs/kubernetes.md). The body streams to a hidden temporary file
// in DIR (never held in memory), counted against --max-bytes as it arrives (and refused up front
// when Content-Length already says too much) and hashed on the way; only bytes whose sha256 is the
// expected one are renamed to DIR/NAME, so a worker watching DIR sees no file or the whole, verified
// file (rename is atomic within a file system; the repository scan ignores hidden names). A file
// already in place with the expected sha256 is kept without downloading, so a restarted init
// container is cheap.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileNameOfUrl } from '../../client/read-source.js';
import { GroveError } from '../../shared/errors/grove-error.js';
import { parseCommandArgs } from '../command-args.js';

const USAGE = `usage: grove pull --url URL --to DIR --sha256 HEX [options]
       grove pull --list FILE --to ROOT [options]

  --url URL         http:// or https:// URL of the model file (redirects are followed)
  --to DIR          folder to write it into, e.g. /models/churn/3 or KServe-style /mnt/models
  --sha256 HEX      the file's expected sha256 (64 hex digits); nothing is written if it differs
  --name FILE       file name in DIR (default: the URL's last path segment, e.g. model.json)
  --list FILE       many files, one per line: DIR SHA256 URL (DIR relative to --to; # comments),
                    downloaded in order; the first failure stops with exit 1
  --max-bytes N     refuse a larger download (default 1073741824)
  --timeout MS      give up after this long (default 300000)

  env GROVE_PULL_AUTHORIZATION   sent as the Authorization header (e.g. from a Kubernetes Secret)
`;

const OPTIONS = {
  url: { type: 'string' },
  to: { type: 'string' },
  sha256: { type: 'string' },
  name: { type: 'string' },
  list: { type: 'string' },
  'max-bytes': { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A plain file name: no folders, not hidden (hidden names are pull's own temporary files). */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

export interface PullOptions {
  url: URL;
  dir: string;
  name: string;
  sha256: string;
  maxBytes: number;
  timeoutMs: number;
  authorization?: string;
}

export interface PullResult {
  path: string;
  bytes: number;
  /** False when the file was already in place with the expected sha256. */
  downloaded: boolean;
}

/** The URL as it may be printed: no credentials, no query (a presigned URL's signature). */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

async function sha256Of(path: string): Promise<{ hex: string; bytes: number } | null> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch {
    return null;
  }
  return { hex: hash.digest('hex'), bytes };
}

export async function pull(o: PullOptions): Promise<PullResult> {
  const path = join(o.dir, o.name);
  await mkdir(o.dir, { recursive: true });
  const present = await sha256Of(path);
  if (present?.hex === o.sha256) return { path, bytes: present.bytes, downloaded: false };

  const tooLarge = (n: string) =>
    new GroveError(
      `${shown(o.url)} is ${n} bytes; the limit is ${o.maxBytes} (--max-bytes)`,
      'GROVE_ERR_PULL_TOO_LARGE',
    );
  const tmp = join(o.dir, `.${o.name}.pull-${process.pid}-${Date.now().toString(36)}`);
  const fh = await open(tmp, 'wx', 0o644);
  let done = false;
  try {
    let res: Response;
    try {
      res = await fetch(o.url, {
        redirect: 'follow',
        signal: AbortSignal.timeout(o.timeoutMs),
        headers: o.authorization ? { authorization: o.authorization } : {},
      });
    } catch (err) {
      throw failed(o, err);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new GroveError(`${shown(o.url)} answered HTTP ${res.status}`, 'GROVE_ERR_PULL_FAILED');
    }
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > o.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge(String(declared));
    }
    const hash = createHash('sha256');
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done: end, value } = await reader.read();
          if (end) break;
          total += value.length;
          if (total > o.maxBytes) {
            await reader.cancel().catch(() => {});
            throw tooLarge(`more than ${o.maxBytes}`);
          }
          hash.update(value);
          for (let at = 0; at < value.length; )
            at += (await fh.write(value, at, value.length - at)).bytesWritten;
        }
      } catch (err) {
        throw err instanceof GroveError ? err : failed(o, err);
      }
    }
    const hex = hash.digest('hex');
    if (hex !== o.sha256)
      throw new GroveError(
        `${shown(o.url)} has sha256 ${hex}, not the expected ${o.sha256}; nothing was written`,
        'GROVE_ERR_PULL_CHECKSUM',
      );
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    done = true;
    await syncDir(o.dir);
    return { path, bytes: total, downloaded: true };
  } finally {
    if (!done) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
    }
  }
}

function failed(o: PullOptions, err: unknown): GroveError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const why =
    e.name === 'TimeoutError' || e.name === 'AbortError'
      ? `no complete answer within ${o.timeoutMs} ms (--timeout)`
      : (e.cause?.code ?? e.cause?.message ?? e.message);
  return new GroveError(`cannot download ${shown(o.url)}: ${why}`, 'GROVE_ERR_PULL_FAILED', { cause: err });
}

/** Makes the rename durable (a crash right after must not lose it); not every file system can. */
async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // EISDIR/EINVAL on file systems that cannot fsync a folder: the rename itself is still atomic
  }
}

function positiveInt(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

interface PullJob {
  url: URL;
  dir: string;
  name: string;
  sha256: string;
}

/** One download from its parts, or why it cannot be one. */
function pullJob(urlText: string, shaText: string, dir: string, nameText?: string): PullJob | string {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    return `'${urlText.slice(0, 200)}' is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'the URL must be http:// or https://';
  const sha256 = shaText.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) return 'a sha256 is 64 hex digits';
  const name = nameText ?? fileNameOfUrl(url.href);
  if (!FILE_NAME.test(name) || name.includes('..'))
    return `'${name.slice(0, 200)}' is not a plain file name; give --name FILE`;
  return { url, dir, name, sha256 };
}

/**
 * A list file: one download per line, `DIR SHA256 URL`, DIR relative to --to (e.g.
 * `churn/3 9f86d0... https://models.example.com/churn/3/model.json`); blank lines and # comments
 * are skipped. A mounted ConfigMap holds it in the Kubernetes setups.
 */
async function readList(file: string, to: string): Promise<PullJob[] | string> {
  const fh = await open(file, 'r').catch(() => null);
  if (!fh) return `cannot read --list ${file}`;
  let text: string;
  try {
    if ((await fh.stat()).size > 1 << 20) return `--list ${file} is larger than 1 MiB`;
    text = await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
  const jobs: PullJob[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    const [dir, sha, url] = parts;
    if (parts.length !== 3) return `--list line ${i + 1}: want DIR SHA256 URL`;
    if (dir!.startsWith('/') || dir!.split('/').some((seg) => seg === '..' || seg === ''))
      return `--list line ${i + 1}: DIR must be a relative path inside --to`;
    const job = pullJob(url!, sha!, join(to, dir!));
    if (typeof job === 'string') return `--list line ${i + 1}: ${job}`;
    jobs.push(job);
  }
  return jobs;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('pull', argv, OPTIONS, USAGE);
  if (typeof args === 'number') return args;
  const usage = (msg: string) => {
    process.stderr.write(`grove pull: ${msg}\n\n${USAGE}`);
    return 2;
  };
  if (!args.to) return usage('--to is required');
  let jobs: PullJob[];
  if (args.list !== undefined) {
    if (args.url || args.sha256 || args.name) return usage('--list replaces --url, --sha256 and --name');
    const list = await readList(args.list, args.to);
    if (typeof list === 'string') return usage(list);
    jobs = list;
  } else {
    if (!args.url || !args.sha256) return usage('--url and --sha256 are required (or --list FILE)');
    const job = pullJob(args.url, args.sha256, args.to, args.name);
    if (typeof job === 'string') return usage(job);
    jobs = [job];
  }
  let maxBytes: number;
  let timeoutMs: number;
  try {
    maxBytes = positiveInt(args['max-bytes'], 'max-bytes', 1 << 30);
    timeoutMs = positiveInt(args.timeout, 'timeout', 300_000);
  } catch (err) {
    return usage((err as Error).message);
  }
  for (const job of jobs) {
    try {
      const r = await pull({
        ...job,
        maxBytes,
        timeoutMs,
        authorization: process.env.GROVE_PULL_AUTHORIZATION || undefined,
      });
      process.stdout.write(
        r.downloaded
          ? `grove pull: wrote ${r.path} (${r.bytes} bytes, sha256 ${job.sha256})\n`
          : `grove pull: ${r.path} is already there with sha256 ${job.sha256}; nothing downloaded\n`,
      );
    } catch (err) {
      if (err instanceof GroveError) {
        process.stderr.write(`grove pull: ${err.message} (${err.code})\n`);
        return 1;
      }
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EACCES' || e.code === 'EROFS' || e.code === 'ENOTDIR' || e.code === 'ENOSPC') {
        process.stderr.write(`grove pull: cannot write into ${job.dir} (${e.code})\n`);
        return 1;
      }
      throw err;
    }
  }
  return 0;
}
