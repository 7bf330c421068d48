// The overload benchmark's open-loop client in a process of its own, so it can run on CPUs of its
// own (cpu-pin.ts). Reads {url, path, rate, seconds} from argv[2] (JSON) and the body from stdin;
// prints open-loop.ts's result as one JSON line.
import { type OpenLoopResult, openLoop } from './open-loop.js';

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? '{}') as {
    url: string;
    path: string;
    rate: number;
    seconds: number;
  };
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const r: OpenLoopResult = await openLoop(
    a.url,
    a.path,
    Buffer.concat(chunks).toString(),
    a.rate,
    a.seconds,
  );
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`open-loop failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
