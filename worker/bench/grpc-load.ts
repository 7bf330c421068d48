// A closed-loop gRPC load generator (ghz-style) on @grpc/grpc-js with a client generated from the
// .proto, as a real client would be: `node grpc-load.js HOST:PORT REQUEST_JSON CONCURRENCY SECONDS
// CHANNELS` keeps CONCURRENCY ModelInfer calls in flight over CHANNELS connections for SECONDS,
// then prints one JSON line {requests, rps, p50, p99, errors}. Used by `npm run bench:grpc`.
import { readFileSync } from 'node:fs';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { inferenceClient } from '../../shared/protocol/grpc/proto-client.js';

type InferClient = Client & { ModelInfer(req: object, cb: (e: ServiceError | null) => void): void };

async function main(): Promise<void> {
  const [address, requestFile, conc = '32', seconds = '5', chans = '1'] = process.argv.slice(2);
  const request = JSON.parse(readFileSync(requestFile!, 'utf8')) as object;
  const concurrency = Number(conc);
  const clients: InferClient[] = [];
  // Distinct channels (not one shared subchannel) so CHANNELS means CHANNELS connections.
  for (let i = 0; i < Number(chans); i++) {
    clients.push(
      inferenceClient(address!, { 'grpc.use_local_subchannel_pool': 1, 'grpc.channel_id': i }) as InferClient,
    );
  }
  const warm = Date.now() + 1000;
  const end = warm + Number(seconds) * 1000;
  const lat: number[] = [];
  let errors = 0;
  await new Promise<void>((resolve) => {
    let live = concurrency;
    for (let c = 0; c < concurrency; c++) {
      const client = clients[c % clients.length]!;
      const next = (): void => {
        const now = Date.now();
        if (now >= end) {
          if (--live === 0) resolve();
          return;
        }
        const t0 = performance.now();
        client.ModelInfer(request, (err) => {
          if (Date.now() >= warm) {
            if (err) errors++;
            else lat.push(performance.now() - t0);
          }
          next();
        });
      };
      next();
    }
  });
  for (const c of clients) c.close();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
  process.stdout.write(
    `${JSON.stringify({ requests: lat.length, rps: lat.length / Number(seconds), p50: q(0.5), p99: q(0.99), errors })}\n`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
