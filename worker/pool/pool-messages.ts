// Messages between the worker's event loop and its pool threads. Model buffers travel once per
// version over a BroadcastChannel (a SharedArrayBuffer is shared, never copied); tasks carry only
// the version key and their rows (a SharedArrayBuffer the main thread allocated, or CSV/NDJSON text).
import type { BatchFormat } from '../batch/batch-text.js';

export interface RegisterMessage {
  type: 'register';
  key: string;
  buffer: SharedArrayBuffer;
  featureNames: string[];
}
export interface UnregisterMessage {
  type: 'unregister';
  key: string;
}
/** A thread that starts asks for every registration it missed. */
export interface HelloMessage {
  type: 'hello';
}
export type ChannelMessage = RegisterMessage | UnregisterMessage | HelloMessage;

export interface PredictTask {
  op: 'predict';
  key: string;
  /** Dense rows in shared memory (row-major). */
  input: Float64Array;
  rows: number;
  /** Output in shared memory, filled by the thread. */
  out: Float64Array;
  raw: boolean;
}
/** Per-feature contributions of dense shared-memory rows (shared/runtime/explain/). */
export interface ContributionsTask {
  op: 'contributions';
  key: string;
  input: Float64Array;
  rows: number;
  /** rows * K * (F + 1) values in shared memory, filled by the thread. */
  out: Float64Array;
}
export interface PredictNamedTask {
  op: 'predict-named';
  key: string;
  rows: Record<string, unknown>[];
  out: Float64Array;
  raw: boolean;
}
export interface BatchTask {
  op: 'batch';
  key: string;
  format: BatchFormat;
  /** The chunk's records: CSV as UTF-8 bytes (moved here, not copied), NDJSON as text. */
  text: string | Uint8Array;
  /** CSV only: the header's names and the feature index of each CSV column (-1: not read). */
  header: string[] | null;
  columns: Int32Array | null;
  firstLine: number;
  raw: boolean;
  outputNames: string[];
  /** Return the parsed rows too (only when observers want them). */
  wantInput: boolean;
}
export interface BatchResult {
  text: string;
  rows: number;
  input: Float64Array | null;
  named: Record<string, unknown>[] | null;
  out: Float64Array | null;
}

export type PoolTask = PredictTask | PredictNamedTask | BatchTask | ContributionsTask;

/** Errors cross threads as data so the stable code and status survive (structured clone drops them). */
export interface TaskFailure {
  failed: true;
  message: string;
  code: string;
  statusCode: number;
  features?: string[];
  /** The model's feature names, for the message (UnknownFeatureError). */
  expected?: string[] | null;
}
