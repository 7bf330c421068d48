// The prediction log (docs/monitoring.md, Tracing and the prediction log): NDJSON records `{id, time, model, version, sha256,
// inputs, outputs}` for a sampled share of requests, so any prediction can be traced to the exact
// model file and replayed. Writing never blocks the event loop: records are serialized into an
// in-memory buffer and written by one asynchronous FileHandle.write at a time (the libuv thread
// pool does the disk work). When the disk falls behind and the buffer reaches maxBufferBytes, new
// records are dropped and counted (grove_prediction_log_dropped_total) rather than stalling
// predictions or growing memory without bound. Files rotate by size at record boundaries;
// close() writes everything still buffered (graceful stop loses nothing).
import { mkdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { PredictionEvent, PredictionObserver } from '../observer.js';

export interface PredictionLogOptions {
  dir: string;
  /** Share of requests logged, 0..1 (default 1). */
  sampleRate?: number;
  /** Rotate when a file would grow past this many bytes (default 64 MiB). */
  maxFileBytes?: number;
  /** Bytes waiting for the disk at most before records are dropped (default 16 MiB). */
  maxBufferBytes?: number;
  /** Writes start once this many bytes wait (default 64 KiB), or after flushIntervalMs (default 250). */
  flushBytes?: number;
  flushIntervalMs?: number;
  random?: () => number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

export class PredictionLog implements PredictionObserver {
  private readonly o: Required<Omit<PredictionLogOptions, 'onError'>> & Pick<PredictionLogOptions, 'onError'>;
  private chunks: string[] = [];
  private buffered = 0;
  private writing: Promise<void> | null = null;
  private file: FileHandle | null = null;
  private fileBytes = 0;
  private seq = 0;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  records = 0;
  dropped = 0;
  bytes = 0;
  files: string[] = [];

  constructor(options: PredictionLogOptions) {
    this.o = {
      sampleRate: 1,
      maxFileBytes: 64 * 1024 * 1024,
      maxBufferBytes: 16 * 1024 * 1024,
      flushBytes: 64 * 1024,
      flushIntervalMs: 250,
      random: Math.random,
      now: Date.now,
      ...options,
    };
    mkdirSync(this.o.dir, { recursive: true });
    this.timer = setInterval(() => this.kick(), this.o.flushIntervalMs);
    this.timer.unref();
  }

  observe(e: PredictionEvent): void {
    if (this.closed) return;
    // A call the gateway merged holds several clients' requests: log each under its own id (and
    // sample each on its own), so ab-report can join every client request with its label.
    const segs = e.requestIds;
    if (segs !== null && segs.reduce((n, s) => n + s.rows, 0) === e.rows) {
      let from = 0;
      for (const s of segs) {
        this.sampled(e, s.id, from, s.rows);
        from += s.rows;
      }
      return;
    }
    this.sampled(e, e.requestId, 0, e.rows);
  }

  private sampled(e: PredictionEvent, id: string, from: number, rows: number): void {
    const rate = this.o.sampleRate;
    if (rate < 1 && !(this.o.random() < rate)) return;
    const line = `${JSON.stringify(this.record(e, id, from, rows))}\n`;
    if (this.buffered + line.length > this.o.maxBufferBytes) {
      this.dropped++;
      return;
    }
    this.chunks.push(line);
    this.buffered += line.length;
    this.records++;
    if (this.buffered >= this.o.flushBytes) this.kick();
  }

  private record(e: PredictionEvent, id: string, from: number, rows: number): Record<string, unknown> {
    let inputs: unknown;
    if (e.namedRows)
      inputs = from === 0 && rows === e.rows ? e.namedRows : e.namedRows.slice(from, from + rows);
    else if (e.input) inputs = rowsOf(e.input, from, rows, e.numFeatures);
    else inputs = null;
    return {
      id,
      time: new Date(e.at || this.o.now()).toISOString(),
      model: e.model,
      version: e.version,
      sha256: e.sha256,
      raw: e.raw || undefined,
      inputs,
      outputs: rowsOf(e.output, from, rows, e.numOutputs),
    };
  }

  /** Starts a write if none is running and something waits. */
  private kick(): void {
    if (this.writing || this.chunks.length === 0) return;
    this.writing = this.writeAll()
      .catch((err) => this.o.onError?.(err))
      .finally(() => {
        this.writing = null;
        if (this.buffered >= this.o.flushBytes || (this.closed && this.chunks.length > 0)) this.kick();
      });
  }

  private async writeAll(): Promise<void> {
    while (this.chunks.length > 0) {
      const pending = this.chunks;
      this.chunks = [];
      // Split at record boundaries so no record straddles a rotation.
      let batch = '';
      let batchBytes = 0;
      for (const line of pending) {
        const lineBytes = Buffer.byteLength(line);
        const used = (this.file ? this.fileBytes : 0) + batchBytes;
        if (used > 0 && used + lineBytes > this.o.maxFileBytes) {
          await this.writeString(batch);
          batch = '';
          batchBytes = 0;
          await this.rotate();
        }
        batch += line;
        batchBytes += lineBytes;
      }
      await this.writeString(batch);
      this.buffered -= pending.reduce((n, l) => n + l.length, 0);
    }
  }

  private async writeString(s: string): Promise<void> {
    if (s.length === 0) return;
    if (!this.file) await this.rotate();
    const buf = Buffer.from(s);
    await this.file!.write(buf, 0, buf.length);
    this.fileBytes += buf.length;
    this.bytes += buf.length;
  }

  private async rotate(): Promise<void> {
    if (this.file) await this.file.close();
    const stamp = new Date(this.o.now()).toISOString().replace(/[:.]/g, '-');
    const name = join(
      this.o.dir,
      `predictions-${stamp}-${process.pid}-${String(this.seq++).padStart(4, '0')}.ndjson`,
    );
    this.file = await open(name, 'a');
    this.fileBytes = 0;
    this.files.push(name);
  }

  /** Writes what is buffered now (tests, graceful stop). */
  async flush(): Promise<void> {
    while (this.writing || this.chunks.length > 0) {
      this.kick();
      await this.writing;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
    if (this.file) {
      await this.file.close();
      this.file = null;
    }
  }
}

/** Row-major values as arrays of rows; NaN (missing) and infinities become null, as JSON requires. */
function rowsOf(
  values: Float64Array,
  from: number,
  rows: number,
  width: number,
): Array<Array<number | null>> {
  const out: Array<Array<number | null>> = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const row: Array<number | null> = new Array(width);
    for (let i = 0; i < width; i++) {
      const v = values[(from + r) * width + i]!;
      row[i] = Number.isFinite(v) ? v : null;
    }
    out[r] = row;
  }
  return out;
}
