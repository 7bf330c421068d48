// A WorkerBatch for the jobs tests whose workers answer `answer(rows)`, reached by both of its ways:
// `call` (rows as text) and `callBody` (a whole `:batch` body, read as a worker reads it: the
// header line, then the rows, blank lines skipped, a CR before LF dropped, and an `exclude`d
// column taken out of each row). Every call is recorded.
import type { BatchAnswer, WorkerBatch } from './worker-batch.js';

export interface FakeCall {
  way: 'call' | 'callBody';
  rows: string[];
  /** callBody: the body as sent, and its `exclude`. */
  body?: string;
  exclude?: string | null;
}

export function fakeBatch(answer: (rows: string[]) => BatchAnswer): {
  batch: WorkerBatch;
  calls: FakeCall[];
} {
  const calls: FakeCall[] = [];
  const batch = {
    async call(_m: string, _v: string, _f: string, _h: string | null, rows: readonly string[]) {
      calls.push({ way: 'call', rows: [...rows] });
      return answer([...rows]);
    },
    async callBody(
      _m: string,
      _v: string,
      _f: string,
      body: Buffer,
      count: number,
      exclude: string | null = null,
    ) {
      const text = body.toString('utf8');
      const lines = text
        .split('\n')
        .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
        .filter((l) => l.length > 0);
      const header = lines.shift()!.split(',');
      const drop = exclude === null ? -1 : header.indexOf(exclude);
      const rows = lines.map((l) =>
        drop < 0
          ? l
          : l
              .split(',')
              .filter((_, i) => i !== drop)
              .join(','),
      );
      if (rows.length !== count)
        throw new Error(`callBody: ${rows.length} rows in a body said to hold ${count}`);
      calls.push({ way: 'callBody', rows, body: text, exclude });
      return answer(rows);
    },
  };
  return { batch: batch as unknown as WorkerBatch, calls };
}
