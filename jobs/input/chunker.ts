// Cuts an upload's rows into the chunks a job is stored and scored in (docs/jobs.md). A row is a
// non-blank line, numbered from 1 in input order. With a key column each row's key is taken out
// here; a row whose key is unusable is refused here, before any worker sees it: with
// on_error=skip it becomes an error row stored with the chunk, otherwise it fails the job.
import { copyValue } from '../store/copy-text.js';
import type { ChunkIn, JobFormat, OnError } from '../store/job-store.js';
import { takeCsvKey } from './csv-rows.js';
import { keyProblem, takeNdjsonKey } from './row-key.js';

export interface ChunkerOptions {
  jobId: string;
  format: JobFormat;
  /** The key column's name, and (CSV) its index in the header; null without a key. */
  keyColumn: string | null;
  keyIndex: number;
  onError: OnError;
  /** A chunk is cut at this many rows or this many characters, whichever comes first. */
  chunkRows: number;
  chunkChars: number;
}

export interface RowFailure {
  row: number;
  message: string;
  code: string;
}

export class Chunker {
  /** Rows seen (numbered from 1). */
  rows = 0;
  chunks = 0;
  /** The first refused row when on_error=fail (reading should stop). */
  failure: RowFailure | null = null;
  private lines: string[] = [];
  private keys: string[] | null;
  private skip: number[] = [];
  private errorRows = '';
  private inChunk = 0;
  private chars = 0;
  private firstRow = 1;

  constructor(private readonly o: ChunkerOptions) {
    this.keys = o.keyColumn === null ? null : [];
  }

  /** Adds one line; true when the current chunk is full (take it). */
  add(line: string): boolean {
    if (line.length === 0) return false;
    const row = ++this.rows;
    let text = line;
    if (this.keys !== null) {
      const column = this.o.keyColumn!;
      let key: string | null = null;
      let problem: string | null;
      if (this.o.format === 'csv') {
        const t = takeCsvKey(line, this.o.keyIndex);
        if (t === null) problem = `no field for key column '${column}'`;
        else {
          key = t.key.trim();
          text = t.rest;
          problem = keyProblem(key, column);
        }
      } else {
        const t = takeNdjsonKey(line, column);
        if (typeof t === 'string') problem = t;
        else {
          key = t.key;
          text = t.rest;
          problem = keyProblem(key, column);
        }
      }
      if (problem !== null) {
        this.refuse(row, problem);
        return this.isFull();
      }
      this.keys.push(key!);
    }
    this.lines.push(text);
    this.inChunk++;
    this.chars += text.length + 1;
    return this.isFull();
  }

  private refuse(row: number, problem: string): void {
    const code = 'GROVE_ERR_BAD_KEY';
    if (this.o.onError === 'fail') {
      this.failure ??= { row, message: `row ${row}: ${problem}`, code };
      return;
    }
    this.skip.push(this.inChunk);
    this.inChunk++;
    this.errorRows += `${this.o.jobId}\t${row}\t\\N\t\\N\t${copyValue(problem)}\t${code}\n`;
  }

  private isFull(): boolean {
    return this.inChunk >= this.o.chunkRows || this.chars >= this.o.chunkChars;
  }

  /** The pending rows as a chunk (null when there are none). */
  take(): ChunkIn | null {
    if (this.inChunk === 0) return null;
    const c: ChunkIn = {
      seq: this.chunks++,
      firstRow: this.firstRow,
      rowCount: this.inChunk,
      body: this.lines.join('\n'),
      keys: this.keys,
      skip: this.skip.length > 0 ? this.skip : null,
      errorRows: this.errorRows,
    };
    this.firstRow += this.inChunk;
    this.lines = [];
    this.keys = this.keys === null ? null : [];
    this.skip = [];
    this.errorRows = '';
    this.inChunk = 0;
    this.chars = 0;
    return c;
  }
}
