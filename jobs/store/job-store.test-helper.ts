// The job store tests' rows: a job, a chunk of CSV rows, and the COPY text of their results.
import { copyValue } from './copy-text.js';
import type { ChunkIn, NewJob } from './job-store.js';

export const NEW: NewJob = {
  model: 'm',
  version: '1',
  format: 'csv',
  header: 'a,b',
  keyColumn: 'id',
  onError: 'fail',
  notifyUrl: null,
};

export function chunk(seq: number, firstRow: number, keys: string[]): ChunkIn {
  return {
    seq,
    firstRow,
    rowCount: keys.length,
    body: keys.map((_, i) => `${firstRow + i},1`).join('\n'),
    keys,
    skip: null,
    errorRows: '',
  };
}

export function results(
  jobId: string,
  firstRow: number,
  keys: string[],
  value: (i: number) => number,
): string {
  return keys
    .map((k, i) => `${jobId}\t${firstRow + i}\t${copyValue(k)}\t{${value(firstRow + i)}}\t\\N\t\\N\n`)
    .join('');
}
