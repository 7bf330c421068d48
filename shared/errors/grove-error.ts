// Typed errors for all of grove: each has a stable `code` from the one catalogue (catalogue.ts;
// never match on messages) and takes its HTTP status from it. HTTP answers are
// `{"error": message, "code": code}`: `error` is a string, as the Open Inference Protocol and TF
// Serving's REST API define it (docs/errors.md).
import { ERROR_CATALOGUE, type GroveErrorCode, isGroveErrorCode } from './catalogue.js';

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
export class UnknownFeatureError extends GroveError {
  readonly features: string[];
  constructor(features: string[]) {
    super(`unknown feature name(s): ${features.join(', ')}`, 'GROVE_ERR_UNKNOWN_FEATURE');
    this.features = features;
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
  constructor(message = 'missing or wrong bearer token') {
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
  constructor(type: string) {
    super(`unsupported content type '${type}'`, 'GROVE_ERR_UNSUPPORTED_MEDIA_TYPE');
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
    super(`unknown ${library} objective '${objective}'`, 'GROVE_ERR_UNKNOWN_OBJECTIVE');
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
export class UnsafePickleError extends ModelFormatError {
  readonly global: string;
  constructor(global: string) {
    super(
      `pickle refers to '${global}', which grove does not rebuild (not on the allowlist)`,
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
