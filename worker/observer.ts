// Prediction observers: how other modules (the drift monitor, the prediction log) see every
// successful prediction without touching the request path. The worker calls each observer
// synchronously after a prediction (every protocol, inline or pool, streamed batches chunk by
// chunk); an observer must be cheap and must not throw (if it does, the error is logged once and
// the request still succeeds). Arrays are owned by the worker: copy what you keep beyond `observe`.

export interface PredictionEvent {
  /** The request's x-request-id (the client's, or one the worker made). */
  requestId: string;
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
}

export interface PredictionObserver {
  observe(e: PredictionEvent): void;
  close?(): Promise<void>;
}
