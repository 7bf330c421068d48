// The bytes of a model from what an application has at hand: a file path (or file: URL), bytes, or
// a fetch Response / Blob / ReadableStream. Sizes are checked before anything is allocated for
// them (a file's size, a response's content-length) and while a stream is read, so a hostile or
// mistaken source cannot make the loader hold more than `maxBytes`.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelSourceError } from '../shared/errors/grove-error.js';

/** A fetch Response (or anything with its shape: a body stream, headers, status). */
export interface ResponseLike {
  readonly ok?: boolean;
  readonly status?: number;
  readonly url?: string;
  readonly headers?: { get(name: string): string | null };
  readonly body?: ReadableStreamLike | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A WHATWG ReadableStream of bytes. */
export interface ReadableStreamLike {
  getReader(): {
    read(): Promise<{ done: boolean; value?: Uint8Array }>;
    cancel(reason?: unknown): Promise<void>;
    releaseLock(): void;
  };
}

/** A Blob or File (size is known before reading). */
export interface BlobLike {
  readonly size: number;
  readonly name?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export type ModelSource =
  | string
  | URL
  | Uint8Array
  | ArrayBuffer
  | ResponseLike
  | BlobLike
  | ReadableStreamLike;

/** Default size limit of loadModel: 1 GiB. */
export const DEFAULT_MAX_MODEL_BYTES = 1 << 30;

export interface SourceBytes {
  bytes: Uint8Array;
  /** A file name, when the source has one: helps format detection on ambiguous content. */
  fileName?: string;
}

function tooLarge(size: number, max: number): ModelSourceError {
  return new ModelSourceError(
    `the model is ${size} bytes; the limit is ${max} (loadModel option maxBytes)`,
    'GROVE_ERR_MODEL_TOO_LARGE',
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export async function readSource(
  source: ModelSource,
  maxBytes = DEFAULT_MAX_MODEL_BYTES,
): Promise<SourceBytes> {
  if (typeof source === 'string') return readFileBounded(source, maxBytes);
  if (source instanceof URL) {
    if (source.protocol !== 'file:') {
      throw new ModelSourceError(
        `loadModel reads file: URLs; for ${source.protocol} pass the response: loadModel(await fetch(url))`,
      );
    }
    return readFileBounded(fileURLToPath(source), maxBytes);
  }
  if (source instanceof Uint8Array) return { bytes: checked(source, maxBytes) };
  if (source instanceof ArrayBuffer) return { bytes: checked(new Uint8Array(source), maxBytes) };
  if (isObject(source) && typeof source.getReader === 'function')
    return { bytes: await readStream(source as unknown as ReadableStreamLike, maxBytes) };
  if (isObject(source) && typeof source.arrayBuffer === 'function') {
    if (typeof source.size === 'number') return readBlob(source as unknown as BlobLike, maxBytes);
    return readResponse(source as unknown as ResponseLike, maxBytes);
  }
  throw new ModelSourceError(
    'loadModel takes a file path, a file: URL, bytes (Uint8Array / ArrayBuffer), or a fetch Response, Blob or ReadableStream',
  );
}

function checked(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length > max) throw tooLarge(bytes.length, max);
  return bytes;
}

async function readFileBounded(path: string, max: number): Promise<SourceBytes> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ModelSourceError(`cannot open model file ${path} (${code})`, 'GROVE_ERR_MODEL_SOURCE', {
      cause: err,
    });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new ModelSourceError(`${path} is not a file`);
    if (st.size > max) throw tooLarge(st.size, max);
    const bytes = new Uint8Array(st.size);
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await fh.read(bytes, done, bytes.length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return { bytes: done === bytes.length ? bytes : bytes.subarray(0, done), fileName: basename(path) };
  } finally {
    await fh.close();
  }
}

async function readBlob(blob: BlobLike, max: number): Promise<SourceBytes> {
  if (blob.size > max) throw tooLarge(blob.size, max);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return typeof blob.name === 'string' && blob.name ? { bytes, fileName: blob.name } : { bytes };
}

async function readResponse(res: ResponseLike, max: number): Promise<SourceBytes> {
  if (res.ok === false)
    throw new ModelSourceError(`the response is HTTP ${res.status ?? 'error'}, not a model file`);
  const declared = Number(res.headers?.get('content-length') ?? Number.NaN);
  if (declared > max) throw tooLarge(declared, max);
  const bytes = res.body
    ? await readStream(res.body, max)
    : checked(new Uint8Array(await res.arrayBuffer()), max);
  const name = typeof res.url === 'string' ? fileNameOfUrl(res.url) : '';
  return name ? { bytes, fileName: name } : { bytes };
}

async function readStream(stream: ReadableStreamLike, max: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!(value instanceof Uint8Array))
        throw new ModelSourceError('the stream gave a chunk that is not bytes');
      total += value.length;
      if (total > max) {
        await reader.cancel().catch(() => {});
        throw tooLarge(total, max);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

/** The last path segment of a URL (`.../model.txt?x=1` -> `model.txt`), or ''. */
export function fileNameOfUrl(url: string): string {
  try {
    const last = new URL(url).pathname.split('/').pop() ?? '';
    return decodeURIComponent(last);
  } catch {
    return '';
  }
}
