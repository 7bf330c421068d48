// A separate process for `bench:worker` that streams 100k-row CSV batches to a worker until it is
// told to stop (SIGTERM), then prints how many batches and rows went through. Separate so that
// reading the batch answers does not stall the load generator measuring one-row latency.
import { readFileSync } from 'node:fs';

const [url, csvFile] = process.argv.slice(2) as [string, string];
const csv = readFileSync(csvFile);
let stop = false;
let batches = 0;
let rows = 0;
process.on('SIGTERM', () => (stop = true));

async function main(): Promise<void> {
  process.stdout.write('ready\n');
  while (!stop) {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`batch answered ${r.status}: ${text.slice(0, 200)}`);
    rows += text.split('\n').length - 2;
    batches++;
  }
  process.stdout.write(JSON.stringify({ batches, rows }) + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
