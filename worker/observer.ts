// Prediction observers: how other modules (the drift monitor, the prediction log) see every
// successful prediction without touching the request path. The worker calls each observer
// synchronously after a prediction (every protocol, inline or pool, streamed batches chunk by
// chunk); an observer must be cheap and must not throw (if it does, the error is logged once and
// the request still succeeds). Arrays are owned by the worker: copy what you keep beyond `observe`,
// unless the event is `retainable`.

export interface PredictionEvent {
  /** The request's x-request-id (the client's, or one the worker made). */
  requestId: string;
  /**
   * For calls the gateway merged from several clients (header `x-grove-request-ids`): each
   * client's request id and row count, in row order; null for ordinary requests.
   */
  requestIds: ReadonlyArray<RequestRows> | null;
  model: string;
  version: string;
  /** sha256 (hex) of the model file that produced the prediction. */
  sha256: string;
  /** Dense rows, row-major, `rows * numFeatures` values, NaN = missing; null for sparse models. */
  input: Float64Array | null;
  /** The rows as the client named them (v1 named instances, NDJSON objects), else null. */
  namedRows: ReadonlyArray<Readonly<Record<string, unknown>>> | null;
  rows: number;
  numFeatures: number;
  /** `rows * numOutputs` values, row-major. */
  output: Float64Array;
  numOutputs: number;
  /** True when `output` holds raw margins rather than the library's predict output. */
  raw: boolean;
  /** Epoch milliseconds. */
  at: number;
  /**
   * True when the worker never touches `input` and `output` again (a pool thread's fresh arrays):
   * an observer may keep them instead of copying.
   */
  retainable?: boolean;
}

export interface RequestRows {
  id: string;
  rows: number;
}

/** Parses `x-grove-request-ids` (`id=rows,...`, ids URI-encoded); null when absent or malformed. */
export function parseRequestRows(header: string | string[] | undefined): RequestRows[] | null {
  if (typeof header !== 'string' || header.length === 0) return null;
  const out: RequestRows[] = [];
  for (const part of header.split(',')) {
    const eq = part.lastIndexOf('=');
    const count = part.slice(eq + 1);
    if (eq <= 0 || !/^[0-9]{1,9}$/.test(count)) return null;
    const rows = Number(count);
    try {
      out.push({ id: decodeURIComponent(part.slice(0, eq)), rows });
    } catch {
      return null;
    }
  }
  return out;
}

export interface PredictionObserver {
  observe(e: PredictionEvent): void;
  close?(): Promise<void>;
}
