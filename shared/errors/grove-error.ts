// Typed errors for all of grove: each has a stable `code` from the one catalogue (catalogue.ts;
// never match on messages) and takes its HTTP status from it. HTTP answers are
// `{"error": message, "code": code}`: `error` is a string, as the Open Inference Protocol and TF
// Serving's REST API define it (docs/errors.md).
import { ERROR_CATALOGUE, type GroveErrorCode, isGroveErrorCode } from './catalogue.js';
import { fileText } from './file-text.js';

export type { GroveErrorCode } from './catalogue.js';

export class GroveError extends Error {
  readonly code: GroveErrorCode;
  readonly statusCode: number;
  constructor(message: string, code: GroveErrorCode = 'GROVE_ERR_INTERNAL', options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.statusCode = ERROR_CATALOGUE[code].status;
  }
  toJSON(): { error: string; code: string } {
    return { error: this.message, code: this.code };
  }
  /** Rebuilds an error another process reported (a pool thread, a worker's answer): a code this
   *  build does not know becomes GROVE_ERR_INTERNAL rather than an unlisted code. */
  static fromWire(message: string, code: unknown): GroveError {
    return new GroveError(message, isGroveErrorCode(code) ? code : 'GROVE_ERR_INTERNAL');
  }
}

// ---- request errors (4xx) ----
export class BadInputError extends GroveError {
  constructor(message: string, code: GroveErrorCode = 'GROVE_ERR_BAD_INPUT') {
    super(message, code);
  }
}
export class BadJsonError extends GroveError {
  constructor(message = 'request body is not valid JSON') {
    super(message, 'GROVE_ERR_BAD_JSON');
  }
}
/** At most `max` names, each cut to 40 characters, then how many were left out. */
function nameList(names: readonly string[], max: number): string {
  const cut = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}...` : s);
  const shown = names.slice(0, max).map(cut).join(', ');
  return names.length > max ? `${shown} (and ${names.length - max} more)` : shown;
}

export class UnknownFeatureError extends GroveError {
  readonly features: string[];
  /** The model's feature names, when the thrower knows them. */
  readonly expected: string[] | null;
  constructor(features: string[], expected?: Iterable<string>) {
    const want = expected ? [...expected] : null;
    // Capped: a CSV whose newlines were lost (curl -d @file) has thousands of "names" (docs/api.md).
    let message = `unknown feature name(s): ${nameList(features, 10)}`;
    if (want) message += `; the model's ${want.length} features are ${nameList(want, 20)}`;
    if (features.some((f) => f.trim() !== '' && Number.isFinite(Number(f)))) {
      message +=
        '; some names are numbers: a CSV needs a header row of feature names, and curl -d @file strips its newlines (send it with --data-binary @file)';
    }
    super(message, 'GROVE_ERR_UNKNOWN_FEATURE');
    this.features = features;
    this.expected = want;
  }
}
export class ModelNotFoundError extends GroveError {
  constructor(model: string) {
    super(`model '${model}' not found`, 'GROVE_ERR_MODEL_NOT_FOUND');
  }
}
export class VersionNotFoundError extends GroveError {
  constructor(model: string, version: string) {
    super(`model '${model}' has no version '${version}'`, 'GROVE_ERR_VERSION_NOT_FOUND');
  }
}
export class RouteNotFoundError extends GroveError {
  constructor(path: string) {
    super(`no route for ${path}`, 'GROVE_ERR_NOT_FOUND');
  }
}
export class MethodNotAllowedError extends GroveError {
  readonly allow: string[];
  constructor(method: string, allow: string[]) {
    super(`method ${method} not allowed; use ${allow.join(', ')}`, 'GROVE_ERR_METHOD_NOT_ALLOWED');
    this.allow = allow;
  }
}
export class UnauthorizedError extends GroveError {
  // Say where the token comes from (docs/api.md, Admin API): the usual first mistake is not having it.
  constructor(
    message = "missing or wrong bearer token: send 'authorization: Bearer <token>' with the admin token (grove serve prints 'grove admin token: ...' at start unless one was set with --admin-token or GROVE_ADMIN_TOKEN)",
  ) {
    super(message, 'GROVE_ERR_UNAUTHORIZED');
  }
}
export class BodyTooLargeError extends GroveError {
  constructor(limit: number) {
    super(`request body exceeds the limit of ${limit} bytes`, 'GROVE_ERR_BODY_TOO_LARGE');
  }
}
export class TooManyRowsError extends GroveError {
  constructor(rows: number, limit: number) {
    super(
      `request has ${rows} rows; the limit is ${limit} (use the :batch endpoint)`,
      'GROVE_ERR_TOO_MANY_ROWS',
    );
  }
}
export class UnsupportedMediaTypeError extends GroveError {
  constructor(type: string, accepted?: readonly string[]) {
    super(
      `unsupported content type '${type.length > 100 ? `${type.slice(0, 100)}...` : type}'${accepted ? `; send one of ${accepted.join(', ')}` : ''}`,
      'GROVE_ERR_UNSUPPORTED_MEDIA_TYPE',
    );
  }
}

/** A client that did not send its whole request in time (RFC 9110 15.5.9). */
export class RequestTimeoutError extends GroveError {
  constructor(message = 'request not received in time') {
    super(message, 'GROVE_ERR_REQUEST_TIMEOUT');
  }
}

// ---- server-side conditions (5xx) ----
export class TimeoutError extends GroveError {
  constructor(message = 'request timed out') {
    super(message, 'GROVE_ERR_TIMEOUT');
  }
}
export class UnavailableError extends GroveError {
  constructor(message: string, code: GroveErrorCode = 'GROVE_ERR_UNAVAILABLE') {
    super(message, code);
  }
}
/**
 * A refusal the client should retry later (429, 503): the answer carries Retry-After (RFC 9110
 * 10.2.3) with `retryAfterS` seconds.
 */
export class RetryLaterError extends GroveError {
  readonly retryAfterS: number;
  constructor(message: string, code: GroveErrorCode = 'GROVE_ERR_UNAVAILABLE', retryAfterS = 1) {
    super(message, code);
    this.retryAfterS = retryAfterS;
  }
}
export class UpstreamError extends GroveError {
  constructor(message: string) {
    super(message, 'GROVE_ERR_UPSTREAM');
  }
}

// ---- model files (reported at load time; 422 if ever surfaced over HTTP) ----
export class ModelFormatError extends GroveError {
  constructor(message: string, code: GroveErrorCode = 'GROVE_ERR_MODEL_FORMAT') {
    super(message, code);
  }
}
export class TruncatedModelError extends ModelFormatError {
  constructor(message: string) {
    super(message, 'GROVE_ERR_MODEL_TRUNCATED');
  }
}
export class UnknownObjectiveError extends ModelFormatError {
  constructor(objective: string, library: string) {
    super(`unknown ${library} objective ${fileText(objective)}`, 'GROVE_ERR_UNKNOWN_OBJECTIVE');
  }
}
export class UnsupportedModelError extends ModelFormatError {
  constructor(message: string) {
    super(message, 'GROVE_ERR_UNSUPPORTED_MODEL');
  }
}
export class ChecksumError extends ModelFormatError {
  constructor(message: string) {
    super(message, 'GROVE_ERR_CHECKSUM');
  }
}
/** Contributions cannot be computed for this model (shared/runtime/explain/); the code says why. */
export class ExplainUnavailableError extends GroveError {
  constructor(
    message: string,
    code:
      | 'GROVE_ERR_EXPLAIN_UNSUPPORTED'
      | 'GROVE_ERR_EXPLAIN_NO_COVERS'
      | 'GROVE_ERR_EXPLAIN_NO_BACKGROUND' = 'GROVE_ERR_EXPLAIN_UNSUPPORTED',
  ) {
    super(message, code);
  }
}
export class UnsafePickleError extends ModelFormatError {
  readonly global: string;
  constructor(global: string) {
    super(
      `pickle refers to ${fileText(global)}, which grove does not rebuild (not on the allowlist)`,
      'GROVE_ERR_UNSAFE_PICKLE',
    );
    this.global = global;
  }
}

// ---- client: the library's model sources and `grove export` ----
export class ModelSourceError extends GroveError {
  constructor(
    message: string,
    code: GroveErrorCode = 'GROVE_ERR_MODEL_SOURCE',
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}

/** Maps anything thrown to a GroveError (unknown errors become 500 without leaking internals). */
export function toGroveError(err: unknown): GroveError {
  if (err instanceof GroveError) return err;
  return new GroveError('internal error', 'GROVE_ERR_INTERNAL', { cause: err });
}
