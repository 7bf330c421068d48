// grove's errors as gRPC status codes (grpc.github.io/grpc/core/md_doc_statuscodes.html), chosen
// by each code's HTTP status so a new catalogue code maps without an edit here: bad input is
// INVALID_ARGUMENT, an unknown model or version NOT_FOUND, a limit (body, rows, shedding)
// RESOURCE_EXHAUSTED, no worker or version able to answer UNAVAILABLE, a timeout DEADLINE_EXCEEDED.
// Shedding (GROVE_ERR_OVERLOADED) is a 503 over HTTP, for its Retry-After, but RESOURCE_EXHAUSTED
// here: that is the code gRPC clients back off on.
// The catalogue code rides along in the trailing metadata `grove-error-code`, the message in the
// status details, so a client can match on the same codes as over HTTP.
import { Metadata, status } from '@grpc/grpc-js';
import { type GroveError, toGroveError } from '../../errors/grove-error.js';

export const ERROR_CODE_KEY = 'grove-error-code';

export function grpcStatusOf(e: GroveError): status {
  if (e.code === 'GROVE_ERR_OVERLOADED') return status.RESOURCE_EXHAUSTED;
  const s = e.statusCode;
  if (s === 401) return status.UNAUTHENTICATED;
  if (s === 403) return status.PERMISSION_DENIED;
  if (s === 404) return status.NOT_FOUND;
  if (s === 405) return status.UNIMPLEMENTED;
  if (s === 408 || s === 504) return status.DEADLINE_EXCEEDED;
  if (s === 413 || s === 429) return status.RESOURCE_EXHAUSTED;
  if (s === 422) return status.FAILED_PRECONDITION;
  if (s >= 400 && s < 500) return status.INVALID_ARGUMENT;
  if (s === 502 || s === 503) return status.UNAVAILABLE;
  return status.INTERNAL;
}

export interface GrpcErrorStatus {
  code: status;
  details: string;
  metadata: Metadata;
}

/** The status a call ends with for anything thrown (unknown errors: INTERNAL, no detail leaked). */
export function grpcErrorOf(err: unknown): GrpcErrorStatus {
  const e = toGroveError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, e.code);
  return { code: grpcStatusOf(e), details: e.message, metadata };
}
