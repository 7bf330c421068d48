// The one catalogue of grove's error codes (as fastify's lib/errors.js): every code a grove process
// can answer or report, the HTTP status it maps to, and what it means. A GroveError takes its
// status from here, so a code cannot drift between two places; `npm run docs:errors` renders
// this table into docs/errors.md (a test keeps the two equal). Add a code here before using it.

export interface ErrorSpec {
  /** HTTP status of an answer carrying this code. */
  readonly status: number;
  /** One sentence for docs/errors.md: when a client or operator sees it. */
  readonly meaning: string;
}

export const ERROR_CATALOGUE = {
  // ---- the request (4xx) ----
  GROVE_ERR_BAD_INPUT: {
    status: 400,
    meaning: 'The request is malformed in a way no more specific code names.',
  },
  GROVE_ERR_BAD_JSON: { status: 400, meaning: 'The body (or a line of an NDJSON body) is not valid JSON.' },
  GROVE_ERR_BAD_SHAPE: { status: 400, meaning: "A tensor's shape does not match its data or the model." },
  GROVE_ERR_BAD_DATATYPE: {
    status: 400,
    meaning: 'A tensor datatype is unknown, or a value is not of its datatype.',
  },
  GROVE_ERR_BAD_BINARY: { status: 400, meaning: 'A binary-tensor body does not match its JSON header.' },
  GROVE_ERR_BAD_CSV: {
    status: 400,
    meaning: 'A CSV input has no header row, repeats a column, has a ragged row or a quoting mistake.',
  },
  GROVE_ERR_BAD_HTTP: {
    status: 400,
    meaning: 'The request is not valid HTTP/1.1 (RFC 9112); the connection is closed.',
  },
  GROVE_ERR_BAD_PATH: { status: 400, meaning: 'The URL path has malformed percent-encoding.' },
  GROVE_ERR_NOT_NUMERIC: { status: 400, meaning: 'A feature value is neither a number nor a missing value.' },
  GROVE_ERR_FEATURE_COUNT: {
    status: 400,
    meaning: 'A row has a different number of features than the model.',
  },
  GROVE_ERR_UNKNOWN_FEATURE: { status: 400, meaning: 'A named feature is not one of the model’s features.' },
  GROVE_ERR_UNKNOWN_OUTPUT: {
    status: 400,
    meaning: 'The request asks for an output the model does not have.',
  },
  GROVE_ERR_LINE_TOO_LONG: {
    status: 400,
    meaning: 'A record (line) of a streamed CSV or NDJSON input is longer than 8 MiB.',
  },
  GROVE_ERR_ABORTED: { status: 400, meaning: 'The client closed the connection before its body was read.' },
  GROVE_ERR_UNAUTHORIZED: {
    status: 401,
    meaning: 'An admin route was called without the right bearer token.',
  },
  GROVE_ERR_NOT_FOUND: { status: 404, meaning: 'No route answers this path.' },
  GROVE_ERR_MODEL_NOT_FOUND: { status: 404, meaning: 'No model of this name is in the repository.' },
  GROVE_ERR_VERSION_NOT_FOUND: { status: 404, meaning: 'The model has no version of this number.' },
  GROVE_ERR_NO_SPLIT: {
    status: 404,
    meaning: 'The model has no split configured; it serves its latest version.',
  },
  GROVE_ERR_METHOD_NOT_ALLOWED: {
    status: 405,
    meaning: 'The route exists but not for this method (see the Allow header).',
  },
  GROVE_ERR_REQUEST_TIMEOUT: { status: 408, meaning: 'The client did not send its whole request in time.' },
  GROVE_ERR_BODY_TOO_LARGE: { status: 413, meaning: 'The body exceeds the configured limit.' },
  GROVE_ERR_TOO_MANY_ROWS: {
    status: 413,
    meaning: 'One request holds more rows than allowed; use the :batch endpoint.',
  },
  GROVE_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    meaning: 'The body’s content type is not one this route accepts.',
  },

  // ---- the server (5xx) ----
  GROVE_ERR_INTERNAL: { status: 500, meaning: 'An unexpected failure; the log has the detail.' },
  GROVE_ERR_ADMIN_TOKEN_REQUIRED: {
    status: 500,
    meaning: 'Start-up refused: the admin API would listen beyond loopback without a token.',
  },
  GROVE_ERR_UPSTREAM: {
    status: 502,
    meaning: 'A worker answered the gateway with a failure it could not retry.',
  },
  GROVE_ERR_UNREACHABLE: {
    status: 502,
    meaning: 'The target URL could not be reached (load tests, CLI clients).',
  },
  GROVE_ERR_UNAVAILABLE: { status: 503, meaning: 'No worker can answer now; retry later.' },
  GROVE_ERR_MODEL_UNAVAILABLE: {
    status: 503,
    meaning: 'The model exists but none of its versions is READY.',
  },
  GROVE_ERR_VERSION_UNAVAILABLE: {
    status: 503,
    meaning: 'The version exists but is not READY (loading, failed or draining).',
  },
  GROVE_ERR_MONITOR_OFF: {
    status: 503,
    meaning: 'Monitoring is off for this model, so there is no monitor answer.',
  },
  GROVE_ERR_POOL: { status: 503, meaning: 'The thread pool does not hold the model version asked for.' },
  GROVE_ERR_CONSUL: { status: 503, meaning: 'Consul could not be reached or refused a call.' },
  GROVE_ERR_TIMEOUT: { status: 504, meaning: 'The request took longer than the configured timeout.' },

  // ---- model files and their companions (reported at load; 422 if ever surfaced over HTTP) ----
  GROVE_ERR_MODEL_FORMAT: { status: 422, meaning: 'The model file is not a valid file of its format.' },
  GROVE_ERR_MODEL_TRUNCATED: { status: 422, meaning: 'The model file ends before the data it declares.' },
  GROVE_ERR_MODEL_VERSION: {
    status: 422,
    meaning: 'A grove model file of a format version this build does not read.',
  },
  GROVE_ERR_UNKNOWN_OBJECTIVE: { status: 422, meaning: 'The model’s objective is not one grove implements.' },
  GROVE_ERR_UNSUPPORTED_MODEL: { status: 422, meaning: 'A valid model of a kind grove does not serve.' },
  GROVE_ERR_CHECKSUM: { status: 422, meaning: 'A grove model file’s sha256 does not match its contents.' },
  GROVE_ERR_UNSAFE_PICKLE: {
    status: 422,
    meaning: 'A pickle names a global grove does not rebuild (nothing was run).',
  },
  GROVE_ERR_PROBE: {
    status: 422,
    meaning: 'The loaded model predicted a non-finite value on its probe row.',
  },
  GROVE_ERR_PROFILE: { status: 422, meaning: 'A profile.json is malformed.' },
  GROVE_ERR_BAD_CONFIG: { status: 422, meaning: 'A config.json is malformed.' },

  // ---- client: the grove library (loadModel) and `grove export` ----
  GROVE_ERR_MODEL_SOURCE: {
    status: 400,
    meaning:
      'loadModel was given something it cannot read a model from (not a path, bytes or a response body), a file it cannot open, or a failed HTTP response.',
  },
  GROVE_ERR_MODEL_TOO_LARGE: {
    status: 413,
    meaning:
      'The model is larger than the loader’s limit (loadModel maxBytes); nothing was allocated for it.',
  },
  GROVE_ERR_EXPORT_RUNTIME: {
    status: 500,
    meaning:
      'This grove build lacks the runtime bundle exported modules are written from (npm run build makes it).',
  },
  // ---- protocols: gRPC, the model repository API ----
  GROVE_ERR_BAD_PROTOBUF: {
    status: 400,
    meaning: 'A gRPC message is not valid protobuf for its message type.',
  },
  GROVE_ERR_BAD_UPLOAD: {
    status: 400,
    meaning: 'A repository load names a file grove does not accept, or its content is not base64.',
  },
  GROVE_ERR_LOAD_FAILED: {
    status: 422,
    meaning: 'A repository load finished with a version that failed to load; the message says why.',
  },
  // ---- the gateway's front door: admission control, deadlines, HTTP framing ----
  GROVE_ERR_OVERLOADED: {
    status: 503,
    meaning:
      'The gateway is at its --max-inflight limit, or every worker queue is full; retry after the Retry-After seconds.',
  },
  GROVE_ERR_OVER_SHARE: {
    status: 429,
    meaning:
      'The gateway is full and this client holds more than its share of the requests in flight; retry after Retry-After.',
  },
  GROVE_ERR_DEADLINE: {
    status: 504,
    meaning:
      'The request was not answered within its x-grove-deadline-ms; if it was still waiting for a worker, it was dropped unrun.',
  },
  GROVE_ERR_EXPECTATION: {
    status: 417,
    meaning: 'The request has an Expect header other than 100-continue.',
  },
  GROVE_ERR_HEADERS_TOO_LARGE: {
    status: 431,
    meaning:
      'The request head is larger than the server accepts (16 KiB at the gateway, 64 KiB at a worker).',
  },
  // ---- durable prediction jobs (jobs/, docs/jobs.md) ----
  GROVE_ERR_BAD_KEY: {
    status: 400,
    meaning: "A job row's key is missing, empty, longer than 1024 characters or holds a NUL.",
  },
  GROVE_ERR_JOB_NOT_FOUND: { status: 404, meaning: 'No job has this id.' },
  GROVE_ERR_PREDICTION_NOT_FOUND: {
    status: 404,
    meaning: 'No succeeded job of the model stored a prediction for this key.',
  },
  GROVE_ERR_JOB_NOT_SUCCEEDED: {
    status: 409,
    meaning: 'A job’s results were asked for before it succeeded (or after it failed or was cancelled).',
  },
  GROVE_ERR_JOB_FINISHED: { status: 409, meaning: 'The job has already ended, so it cannot be cancelled.' },
  GROVE_ERR_JOBS_DISABLED: {
    status: 501,
    meaning: 'This gateway keeps no jobs (start it with --state-dir or --jobs-db).',
  },
  GROVE_ERR_JOBS_STORE: {
    status: 503,
    meaning: 'The jobs database cannot be opened or reached; retry later.',
  },
  GROVE_ERR_JOB_INPUT_LOST: {
    status: 500,
    meaning:
      'Part of a job’s stored input was removed or damaged before it was scored (a file of the state dir’s jobs-spool, or its row in the jobs database), so the job failed; submit it again.',
  },
  // ---- the CLI: files, listeners and verdicts a command reports (exit status 2) ----
  GROVE_ERR_FILE: {
    status: 400,
    meaning:
      'A file or folder a command was given cannot be used: it does not exist, is a folder where a file is needed, or cannot be read or written.',
  },
  GROVE_ERR_LISTEN: {
    status: 500,
    meaning:
      'A server could not listen: the port is already in use (another grove?), the address is not on this machine, or the port needs privileges.',
  },
  GROVE_ERR_NOT_EVALUATED: {
    status: 400,
    meaning:
      'grove compare had no labels to score the candidate with and was not asked to gate on prediction differences alone (--diff-only), so it gives no verdict.',
  },

  // ---- grove stream (docs/streaming.md): a message's code is in its dead letter ----
  GROVE_ERR_STREAM_NO_ID: {
    status: 400,
    meaning: 'A stream message has no id: neither a Nats-Msg-Id header nor an "id" field.',
  },
  GROVE_ERR_STREAM_BAD_ID: {
    status: 400,
    meaning: 'A stream message id is not 1 to 256 printable characters (or an integer).',
  },
  GROVE_ERR_STREAM_REDELIVERED: {
    status: 422,
    meaning:
      'A stream message came back more than --max-deliver times unacknowledged; it is not scored again.',
  },
  GROVE_ERR_STREAM_CONFIG: {
    status: 500,
    meaning: 'Start-up refused: the subjects, streams or durable consumer given cannot work together.',
  },
  GROVE_ERR_STREAM_ENGINE: {
    status: 503,
    meaning: 'The stream engine (NATS JetStream) could not be reached or refused a call.',
  },
  // ---- Kubernetes: `grove pull`, the init step that fetches a model into a repository ----
  GROVE_ERR_PULL_FAILED: {
    status: 502,
    meaning:
      'grove pull could not download the model: an HTTP error status, a network error or its --timeout.',
  },
  GROVE_ERR_PULL_CHECKSUM: {
    status: 422,
    meaning: 'The downloaded bytes’ sha256 is not the one given with --sha256; nothing was written.',
  },
  GROVE_ERR_PULL_TOO_LARGE: {
    status: 413,
    meaning: 'The download is larger than grove pull’s --max-bytes; it was stopped and nothing was written.',
  },

  // ---- bounded model loading (shared/runtime/isolation; reported at load) ----
  GROVE_ERR_LOAD_TIMEOUT: {
    status: 422,
    meaning: 'Loading the model file took longer than the load deadline (--load-timeout); it was stopped.',
  },
  GROVE_ERR_LOAD_MEMORY: {
    status: 422,
    meaning: 'Loading the model file needed more memory than the load limit (--load-memory); it was stopped.',
  },
  GROVE_ERR_LOAD_CRASHED: {
    status: 422,
    meaning:
      'The process loading the model file died (a V8 fatal error); the process serving was not affected.',
  },
  GROVE_ERR_MODEL_LINK: {
    status: 422,
    meaning: 'The model file is a symbolic link out of the repository; --follow-symlinks allows it.',
  },
  // ---- explanations (feature contributions; docs/explanations.md) ----
  GROVE_ERR_EXPLAIN_UNSUPPORTED: {
    status: 422,
    meaning:
      'Contributions are not defined for this model (linear trees, sparse name -> value inputs); the message says why.',
  },
  GROVE_ERR_EXPLAIN_NO_COVERS: {
    status: 422,
    meaning: 'The tree model file stores no node covers (training weight per node), which TreeSHAP needs.',
  },
  GROVE_ERR_EXPLAIN_NO_BACKGROUND: {
    status: 422,
    meaning:
      'A linear model whose training feature means are unknown (no StandardScaler or mean imputer in front), so coefficient x (value - mean) cannot be computed.',
  },
} as const satisfies Record<`GROVE_ERR_${string}`, ErrorSpec>;

export type GroveErrorCode = keyof typeof ERROR_CATALOGUE;

/** Whether a string read from the wire (a worker's answer, a pool thread's failure) is a known code. */
export function isGroveErrorCode(code: unknown): code is GroveErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code);
}

/** The HTTP status of a code. */
export function statusOf(code: GroveErrorCode): number {
  return ERROR_CATALOGUE[code].status;
}
