// A model's dense rows from a CSV stream, chunk by chunk (`grove predict` writes each chunk's
// predictions before reading the next, so a file of any length runs in bounded memory) or all at
// once (`grove bench`). Columns are matched as feature-columns.ts says; values follow the one
// feature-value rule.
import type { ChunkOptions, TextSource } from './csv-stream.js';
import { openCsv } from './csv-stream.js';
import {
  csvDenseRows,
  type DenseRows,
  type FeatureColumnsOptions,
  featureColumns,
} from './feature-columns.js';

/** Dense rows of `featureNames.length` values per row, one chunk of the stream at a time. */
export async function* denseChunks(
  source: TextSource,
  featureNames: readonly string[],
  opts: FeatureColumnsOptions & ChunkOptions = {},
): AsyncGenerator<DenseRows> {
  const csv = await openCsv(source, opts);
  const columns = featureColumns(csv.header, featureNames, opts);
  for await (const chunk of csv.chunks)
    yield csvDenseRows(chunk.text, chunk.firstLine, csv.header, columns, featureNames.length);
}

/** Every row of the stream as one dense block. */
export async function readDenseRows(
  source: TextSource,
  featureNames: readonly string[],
  opts: FeatureColumnsOptions & ChunkOptions = {},
): Promise<DenseRows> {
  const parts: DenseRows[] = [];
  let rows = 0;
  for await (const part of denseChunks(source, featureNames, opts)) {
    parts.push(part);
    rows += part.rows;
  }
  if (parts.length === 1) return parts[0]!;
  const data = new Float64Array(rows * featureNames.length);
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { data, rows };
}
