// A DNS server the test controls (UDP on 127.0.0.1, port 0): answers A and AAAA queries for the
// names it is given (RFC 1035 4.1 message format), NXDOMAIN for others, SERVFAIL for all while
// `failing`. What a Kubernetes headless Service's name looks like to the gateway: the test sets
// the addresses of the "ready pods" and changes them as pods come and go.
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface FakeDns {
  /** "127.0.0.1:PORT", for --dns-server. */
  address: string;
  /** Sets the addresses of a name (IPv4 and IPv6 mixed); an empty list answers NODATA. */
  set(name: string, addrs: string[]): void;
  failing: boolean;
  /** Queries received, per "NAME TYPE". */
  queries: Map<string, number>;
  close(): Promise<void>;
}

function ipv6Bytes(a: string): Buffer {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(Number.parseInt(groups[i] ?? '0', 16), i * 2);
  return out;
}

function readName(msg: Buffer, at: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = at;
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i]!;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

export async function startFakeDns(): Promise<FakeDns> {
  const names = new Map<string, string[]>();
  const state: FakeDns = {
    address: '',
    failing: false,
    queries: new Map(),
    set: (name, addrs) => names.set(name.toLowerCase(), [...addrs]),
    close: () => new Promise((r) => sock.close(() => r())),
  };
  const sock: Socket = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const { name, end } = readName(msg, 12);
    if (end + 4 > msg.length) return;
    const qtype = msg.readUInt16BE(end);
    const key = `${name} ${qtype === 1 ? 'A' : qtype === 28 ? 'AAAA' : qtype}`;
    state.queries.set(key, (state.queries.get(key) ?? 0) + 1);
    const question = msg.subarray(12, end + 4);
    const addrs = names.get(name);
    let rcode = 0;
    const answers: Buffer[] = [];
    if (state.failing) rcode = 2;
    else if (addrs === undefined) rcode = 3;
    else {
      for (const a of addrs) {
        const v6 = a.includes(':');
        if ((qtype === 28) !== v6 || (qtype !== 1 && qtype !== 28)) continue;
        const rdata = v6 ? ipv6Bytes(a) : Buffer.from(a.split('.').map(Number));
        const rr = Buffer.alloc(12);
        rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
        rr.writeUInt16BE(qtype, 2);
        rr.writeUInt16BE(1, 4); // IN
        rr.writeUInt32BE(1, 6); // TTL 1 s
        rr.writeUInt16BE(rdata.length, 10);
        answers.push(rr, rdata);
      }
    }
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0); // id
    header.writeUInt16BE(0x8000 | (msg.readUInt16BE(2) & 0x0100) | 0x0400 | 0x0080 | rcode, 2); // QR, RD, AA, RA
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length / 2, 6);
    sock.send(Buffer.concat([header, question, ...answers]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  state.address = `127.0.0.1:${(sock.address() as AddressInfo).port}`;
  return state;
}
