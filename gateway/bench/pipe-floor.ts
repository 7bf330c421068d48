// The cheapest proxy a Node process can be, for `npm run bench:gateway` to measure beside the
// gateway and nginx: every client connection is pinned to one upstream connection (round robin
// over the workers) and bytes are piped as they arrive, with no HTTP parsing, routing, splits,
// retries or metrics. What it costs per request is what Node's sockets and event loop cost on this
// machine, so it bounds from below what any Node gateway can cost (gateway/README.md, Cost per
// request). Not a product: it cannot retry, balance by load or refuse anything.
// Usage: node pipe-floor.js URL... ; prints the port it listens on (127.0.0.1) on stdout.
import { connect, createServer, type Socket } from 'node:net';

const upstreams = process.argv.slice(2).map((u) => new URL(u));
if (upstreams.length === 0) {
  process.stderr.write('usage: pipe-floor URL...\n');
  process.exit(2);
}
let next = 0;

function pipe(from: Socket, to: Socket): void {
  from.on('data', (b: Buffer) => {
    // Backpressure as stream.pipe would: a slow reader pauses the writer's source.
    if (!to.write(b)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('error', () => from.destroy());
  from.on('close', () => to.destroy());
}

const server = createServer({ noDelay: true }, (client) => {
  const u = upstreams[next++ % upstreams.length]!;
  const up = connect({ host: u.hostname, port: Number(u.port), noDelay: true });
  pipe(client, up);
  pipe(up, client);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
