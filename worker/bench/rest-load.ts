// A closed-loop REST load generator in Node (undici), the REST counterpart of grpc-load.ts: `node
// rest-load.js URL BODY_FILE CONCURRENCY SECONDS` keeps CONCURRENCY POSTs of the JSON body in
// flight over as many keep-alive connections for SECONDS (after a one-second warm-up it does not
// count), then prints one JSON line {requests, rps, p50, p99, errors}. With it `npm run
// bench:grpc` can compare gRPC and REST under the same kind of client (a Node one each), since on
// a small machine the client's own CPU decides much of what the server can answer.
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

async function main(): Promise<void> {
  const [url, bodyFile, conc = '32', seconds = '5'] = process.argv.slice(2);
  const target = new URL(url!);
  const body = readFileSync(bodyFile!);
  const concurrency = Number(conc);
  const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1 });
  const warm = Date.now() + 1000;
  const end = warm + Number(seconds) * 1000;
  const lat: number[] = [];
  let errors = 0;
  const loop = async (): Promise<void> => {
    while (Date.now() < end) {
      const t0 = performance.now();
      let ok = false;
      try {
        const r = await pool.request({
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await r.body.arrayBuffer();
        ok = r.statusCode === 200;
      } catch {
        ok = false;
      }
      if (Date.now() >= warm) {
        if (ok) lat.push(performance.now() - t0);
        else errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  await pool.close();
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
