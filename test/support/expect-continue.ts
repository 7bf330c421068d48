// One HTTP/1.1 POST with `Expect: 100-continue` on a connection of its own, as clients send it: with
// `waitFor100` the body goes only after the server's 100 (curl, for any body over 1 MiB), else with
// the head. Resolves, when the server closes the connection, with every status line it sent and
// the last answer's body.
import { connect } from 'node:net';

export interface ExpectAnswer {
  statuses: string[];
  body: string;
}

export function expectContinuePost(
  url: string,
  path: string,
  contentType: string,
  body: string,
  waitFor100: boolean,
): Promise<ExpectAnswer> {
  return new Promise((resolve, reject) => {
    const sock = connect(Number(new URL(url).port), '127.0.0.1');
    const head =
      `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${contentType}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
    let text = '';
    let sent = !waitFor100;
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      text += d;
      if (!sent && text.includes(' 100 Continue\r\n\r\n')) {
        sent = true;
        sock.write(body);
      }
    });
    sock.on('error', reject);
    sock.on('close', () => {
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]!);
      resolve({ statuses, body: text.slice(text.lastIndexOf('\r\n\r\n') + 4) });
    });
    sock.write(waitFor100 ? head : head + body);
  });
}
