// The peer for `npm run bench:worker`: a bare node:http server that reads the body, parses the
// same JSON the worker parses, and answers a constant. Prints its URL like the worker does.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const ANSWER =
  '{"model_name":"bare","model_version":"1","outputs":[{"name":"output-0","datatype":"FP64","shape":[1],"data":[0.5]}]}';

const server = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    try {
      JSON.parse(body);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"error":"bad json"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(ANSWER);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(
    `bare server listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`,
  );
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
