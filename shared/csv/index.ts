// shared/csv: the one CSV reader, for every CSV grove takes (grove predict, profile, compare,
// ab-report, the `:batch` endpoint, uploads). Rules for users: docs/formats.md ("CSV input",
// "Numbers and missing values"). What to import:
//
//   const csv = await openCsv(source);          // source: a request, fileText(path), ['text'], bytes
//   csv.header                                  // the header row's names, trimmed
//   for await (const chunk of csv.chunks)       // whole records, ~256 KiB at a time (bounded memory)
//     forEachCsvRecord(chunk.text, chunk.firstLine, (fields, line) => { ... });
//
// - rows for a model: `featureColumns(header, featureNames, opts)` then `csvDenseRows(...)` per
//   chunk, or `denseChunks(source, featureNames)` / `readDenseRows(...)`;
// - one line holding one record (a header, a row cut at line breaks): `csvLineFields(line)`;
// - a whole file as strings: `readCsvFile(path)` -> { header, rows, lines };
// - one value: `textNumber(field)` from shared/runtime/values/feature-value.ts (NaN = missing,
//   undefined = not a number);
// - writing: `formatCsvRows`, `csvField`.
// Errors are GroveErrors: GROVE_ERR_BAD_CSV (quoting, ragged rows, no header, repeated column),
// GROVE_ERR_NOT_NUMERIC, GROVE_ERR_UNKNOWN_FEATURE, GROVE_ERR_LINE_TOO_LONG, each naming the line.
export { csvField, formatCsvRows } from './csv-format.js';
export {
  csvLineFields,
  forEachCsvRecord,
  parseCsvText,
  type RecordVisitor,
  stripBom,
} from './csv-records.js';
export {
  type ChunkOptions,
  type CsvStream,
  fileText,
  openCsv,
  type RecordChunk,
  recordChunks,
  type TextSource,
} from './csv-stream.js';
export {
  type CsvTable,
  column,
  parseCsvTable,
  readCsvFile,
  readCsvTable,
  tableFeatures,
} from './csv-table.js';
export { denseChunks, readDenseRows } from './dense-stream.js';
export {
  csvDenseRows,
  type DenseRows,
  denseRecord,
  type FeatureColumnsOptions,
  featureColumns,
} from './feature-columns.js';
