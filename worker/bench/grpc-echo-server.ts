// The floor of `npm run bench:grpc`: a @grpc/grpc-js server with the same method path and server
// options as grove's (shared/protocol/grpc/inference-service.ts) whose ModelInfer handler answers
// a fixed, valid ModelInferResponse at once: no decoding, no prediction, no metadata, no metrics.
// What it costs per call is what grpc-js and node:http2 cost, which no handler can go below.
// `node grpc-echo-server.js` prints `grpc echo listening on HOST:PORT`.
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { encodeInferResponse, encodeResponseHead } from '../../shared/protocol/grpc/infer-codec.js';
import { INFERENCE_SERVICE } from '../../shared/protocol/grpc/inference-service.js';

const ANSWER = encodeInferResponse(
  encodeResponseHead('bench', '1'),
  '',
  [{ name: 'output-0', shape: [1], values: new Float64Array([0.5]) }],
  false,
);

const server = new Server({
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': -1,
  'grpc.enable_channelz': 0,
});
server.addService(
  { ModelInfer: INFERENCE_SERVICE.ModelInfer! },
  {
    ModelInfer: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) =>
      callback(null, ANSWER),
  },
);
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`grpc echo listening on 127.0.0.1:${port}\n`);
});
// Nothing to drain: a bench stops it with SIGTERM and it ends at once.
process.on('SIGTERM', () => process.exit(0));
