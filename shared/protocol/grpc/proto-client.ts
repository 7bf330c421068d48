// A client of grove's gRPC service generated at run time from the .proto (@grpc/proto-loader +
// protobufjs), as any third-party client would be: the tests and `npm run bench:grpc` talk to the
// server through it, so they check the hand-written server codec against an independent one.
import { join } from 'node:path';
import {
  type Client,
  credentials,
  loadPackageDefinition,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { projectRoot } from '../../runtime-path.js';

export const PROTO_FILE = join(projectRoot, 'shared', 'protocol', 'grpc', 'open_inference_grpc.proto');

let ctor: ServiceClientConstructor | null = null;

/** The generated client class (field names as in the .proto; int64 as numbers; defaults filled in). */
export function inferenceClientClass(): ServiceClientConstructor {
  if (ctor === null) {
    const def = loadSync(PROTO_FILE, {
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = loadPackageDefinition(def) as unknown as {
      inference: { GRPCInferenceService: ServiceClientConstructor };
    };
    ctor = pkg.inference.GRPCInferenceService;
  }
  return ctor;
}

/** A client of the service at `host:port` (plaintext). */
export function inferenceClient(address: string, options: Record<string, unknown> = {}): Client {
  const C = inferenceClientClass();
  return new C(address, credentials.createInsecure(), options);
}
