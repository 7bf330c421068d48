// An in-process stand-in for the Consul HTTP API endpoints grove uses, with Consul's blocking
// semantics: every write bumps one index (like Consul's Raft index); a read with `?index=N&wait=Ts`
// is held until the index passes N or the wait ends, and every answer carries `X-Consul-Index`.
// Endpoints: PUT /v1/agent/service/register, PUT /v1/agent/service/deregister/:id,
// GET /v1/health/service/:name[?passing], GET|PUT|DELETE /v1/kv/:key[?recurse].
// Health: a registered service starts critical until its HTTP check passes, as in Consul; checks
// run every `checkIntervalMs` (or `setStatus` forces a state). `stop()`/`restart()` simulate an
// unreachable agent on the same port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Service {
  ID: string;
  Service: string;
  Tags: string[];
  Address: string;
  Port: number;
  Meta: Record<string, string>;
  check: { HTTP?: string } | null;
  status: 'passing' | 'critical';
  forced: boolean;
}

interface KvEntry {
  value: Buffer;
  createIndex: number;
  modifyIndex: number;
}

export interface FakeConsul {
  url: string;
  /** HOST:PORT, as `--consul` takes it. */
  address: string;
  index(): number;
  services(): Service[];
  kv(key: string): string | undefined;
  setStatus(id: string, status: 'passing' | 'critical'): void;
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

function parseWait(s: string | null): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(s ?? '');
  if (!m) return 300_000;
  const n = Number(m[1]);
  return Math.min(600_000, m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

export async function startFakeConsul(opts: { checkIntervalMs?: number } = {}): Promise<FakeConsul> {
  let index = 1;
  const services = new Map<string, Service>();
  const kv = new Map<string, KvEntry>();
  let waiters: (() => void)[] = [];
  const bump = () => {
    index++;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  const waitFor = (min: number, ms: number) =>
    new Promise<void>((resolve) => {
      if (index > min) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      waiters.push(done);
    });

  const checkTimer = setInterval(async () => {
    for (const s of services.values()) {
      if (s.forced || !s.check?.HTTP) continue;
      let ok = false;
      try {
        const r = await fetch(s.check.HTTP, { signal: AbortSignal.timeout(1000) });
        ok = r.status >= 200 && r.status < 300;
      } catch {
        ok = false;
      }
      const st = ok ? 'passing' : 'critical';
      if (services.get(s.ID) === s && s.status !== st) {
        s.status = st;
        bump();
      }
    }
  }, opts.checkIntervalMs ?? 200);
  checkTimer.unref();

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, payload: unknown) => {
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', 'x-consul-index': String(index) });
      res.end(text);
    };
    const blocking = async () => {
      const want = u.searchParams.get('index');
      if (want !== null) await waitFor(Number(want), parseWait(u.searchParams.get('wait')));
    };
    const p = u.pathname;
    if (req.method === 'PUT' && p === '/v1/agent/service/register') {
      const b = JSON.parse(body.toString() || '{}');
      const old = services.get(b.ID ?? b.Name);
      const check = b.Check ?? null;
      services.set(b.ID ?? b.Name, {
        ID: b.ID ?? b.Name,
        Service: b.Name,
        Tags: b.Tags ?? [],
        Address: b.Address ?? '',
        Port: b.Port ?? 0,
        Meta: b.Meta ?? {},
        check,
        status: old ? old.status : check ? 'critical' : 'passing',
        forced: old?.forced ?? false,
      });
      bump();
      return send(200, '');
    }
    let m = /^\/v1\/agent\/service\/deregister\/(.+)$/.exec(p);
    if (req.method === 'PUT' && m) {
      services.delete(decodeURIComponent(m[1]!));
      bump();
      return send(200, '');
    }
    m = /^\/v1\/health\/service\/(.+)$/.exec(p);
    if (req.method === 'GET' && m) {
      await blocking();
      const passing = u.searchParams.has('passing') && u.searchParams.get('passing') !== 'false';
      const name = decodeURIComponent(m[1]!);
      const list = [...services.values()]
        .filter((s) => s.Service === name && (!passing || s.status === 'passing'))
        .map((s) => ({
          Node: { Node: 'fake-node', Address: '127.0.0.1' },
          Service: {
            ID: s.ID,
            Service: s.Service,
            Tags: s.Tags,
            Address: s.Address,
            Port: s.Port,
            Meta: s.Meta,
          },
          Checks: [{ CheckID: `service:${s.ID}`, Status: s.status }],
        }));
      return send(200, list);
    }
    m = /^\/v1\/kv\/(.*)$/.exec(p);
    if (m) {
      const key = decodeURIComponent(m[1]!);
      if (req.method === 'PUT') {
        const old = kv.get(key);
        kv.set(key, { value: body, createIndex: old?.createIndex ?? index + 1, modifyIndex: index + 1 });
        bump();
        return send(200, 'true');
      }
      if (req.method === 'DELETE') {
        if (u.searchParams.has('recurse'))
          for (const k of [...kv.keys()]) if (k.startsWith(key)) kv.delete(k);
        kv.delete(key);
        bump();
        return send(200, 'true');
      }
      if (req.method === 'GET') {
        await blocking();
        const keys = u.searchParams.has('recurse')
          ? [...kv.keys()].filter((k) => k.startsWith(key)).sort()
          : kv.has(key)
            ? [key]
            : [];
        if (keys.length === 0) return send(404, '');
        return send(
          200,
          keys.map((k) => {
            const e = kv.get(k)!;
            return {
              Key: k,
              Value: e.value.toString('base64'),
              Flags: 0,
              CreateIndex: e.createIndex,
              ModifyIndex: e.modifyIndex,
              LockIndex: 0,
            };
          }),
        );
      }
    }
    send(404, `no fake route for ${req.method} ${p}`);
  }

  let server: Server;
  const make = () =>
    createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => void handle(req, res, Buffer.concat(chunks)).catch(() => res.destroy()));
    });
  server = make();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const closeServer = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    });
  return {
    url: `http://127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    index: () => index,
    services: () => [...services.values()],
    kv: (key) => kv.get(key)?.value.toString(),
    setStatus(id, status) {
      const s = services.get(id);
      if (!s) return;
      s.forced = true;
      if (s.status !== status) {
        s.status = status;
        bump();
      }
    },
    stop: closeServer,
    async restart() {
      server = make();
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
    async close() {
      clearInterval(checkTimer);
      await closeServer();
    },
  };
}
