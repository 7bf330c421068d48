// An in-process stand-in for the Consul HTTP API endpoints grove uses, answering as Consul's
// documentation says the real agent does (docs/multi-host.md has the table of what is and is not
// emulated):
// - blocking queries (api-docs/features/blocking): every write bumps one index; a read with
//   `?index=N&wait=D` is held until the index passes N or D ends (default 5m, at most 10m); every
//   answer carries X-Consul-Index; `resetIndex()` makes the index go backwards, as a snapshot
//   restore or a rebuilt server does: a query then waits out its wait and answers the lower index,
//   which clients must handle by starting over;
// - health (api-docs/health, docs/services/usage/checks): a service registered with a check starts
//   critical (unless the check gives Status); an HTTP check is passing on 2xx, warning on 429,
//   critical otherwise; `?passing` keeps only services whose checks all pass (warning is left out);
//   every entry lists the node's serfHealth check and the service's check;
// - agent service register / deregister (a second register under the same ID replaces the
//   service; deregistering an unknown ID is a 404); KV get (404 when nothing matches), put,
//   delete, `?recurse`, values base64 in JSON answers;
// - ACLs: with `token`, a call without X-Consul-Token is 403 "Permission denied", a wrong one 403
//   "ACL not found"; TLS: with `tls`, the agent speaks HTTPS.
// `stop()` / `restart()` make the agent unreachable on the same port; `until(pred)` waits for a
// state change (no polling on the clock).
import { EventEmitter } from 'node:events';
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';

export type CheckStatus = 'passing' | 'warning' | 'critical';

interface Service {
  ID: string;
  Service: string;
  Tags: string[];
  Address: string;
  Port: number;
  Meta: Record<string, string>;
  check: { CheckID?: string; Name?: string; HTTP?: string; Status?: string } | null;
  status: CheckStatus;
  forced: boolean;
}

interface KvEntry {
  value: Buffer;
  createIndex: number;
  modifyIndex: number;
}

export interface FakeConsulOptions {
  /** How often HTTP checks run (default 200 ms). */
  checkIntervalMs?: number;
  /** Require this ACL token on every call. */
  token?: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface FakeConsul {
  url: string;
  /** HOST:PORT, as `--consul` takes it. */
  address: string;
  index(): number;
  services(): Service[];
  kv(key: string): string | undefined;
  /** Every call received: method, path with query, the token it carried. */
  requests(): { method: string; path: string; token: string | undefined }[];
  /** Forces a service's check status (HTTP checks of that service stop running). */
  setStatus(id: string, status: CheckStatus): void;
  /** Makes the index go backwards to `to` (state is kept), as after a snapshot restore. */
  resetIndex(to?: number): void;
  /** Resolves once `pred()` holds, checked now and after every state change. */
  until(pred: () => boolean): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Consul durations: "10s", "500ms", "5m" (no unit: seconds). */
function parseWait(s: string | null): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(s ?? '');
  if (!m) return 300_000;
  const n = Number(m[1]);
  return Math.min(600_000, m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

function checkStatusOf(httpStatus: number): CheckStatus {
  if (httpStatus >= 200 && httpStatus < 300) return 'passing';
  return httpStatus === 429 ? 'warning' : 'critical';
}

/** Listens on 127.0.0.1:`port`; rejects if the port is taken (say another test's server took it
 * while the agent was stopped) instead of waiting for a 'listening' that never comes. */
function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startFakeConsul(opts: FakeConsulOptions = {}): Promise<FakeConsul> {
  let index = 1;
  const services = new Map<string, Service>();
  const kv = new Map<string, KvEntry>();
  const log: { method: string; path: string; token: string | undefined }[] = [];
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  let waiters: (() => void)[] = [];
  /** Every query still held, so closing the agent can answer them all. */
  const held = new Set<() => void>();
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
    changes.emit('change');
  };
  const bump = () => {
    index++;
    wake();
  };

  // As Consul's blockingQuery: answer once the index passed `min`; otherwise hold, re-checking at
  // every change, until the wait ends. So after the index went backwards, the lower index is only
  // answered when the wait ends, and the client then starts over.
  const waitFor = (min: number, ms: number) =>
    new Promise<void>((resolve) => {
      if (index > min) return resolve();
      const t = setTimeout(finish, ms);
      function finish() {
        clearTimeout(t);
        held.delete(finish);
        resolve();
      }
      function check() {
        if (index > min) finish();
        else if (held.has(finish)) waiters.push(check);
      }
      held.add(finish);
      waiters.push(check);
    });

  const checkTimer = setInterval(async () => {
    for (const s of services.values()) {
      if (s.forced || !s.check?.HTTP) continue;
      let st: CheckStatus;
      try {
        const r = await fetch(s.check.HTTP, { signal: AbortSignal.timeout(1000) });
        st = checkStatusOf(r.status);
        await r.body?.cancel();
      } catch {
        st = 'critical';
      }
      // A status forced while this check was in flight wins: the test set it, and a check result
      // that arrives afterwards must not undo it (real checks stop once their status is fixed).
      if (services.get(s.ID) === s && !s.forced && s.status !== st) {
        s.status = st;
        bump();
      }
    }
  }, opts.checkIntervalMs ?? 200);
  checkTimer.unref();

  function healthEntry(s: Service) {
    const checkId = s.check?.CheckID ?? `service:${s.ID}`;
    return {
      Node: { Node: 'fake-node', Address: '127.0.0.1', Datacenter: 'dc1' },
      Service: { ID: s.ID, Service: s.Service, Tags: s.Tags, Address: s.Address, Port: s.Port, Meta: s.Meta },
      Checks: [
        {
          Node: 'fake-node',
          CheckID: 'serfHealth',
          Name: 'Serf Health Status',
          Status: 'passing',
          ServiceID: '',
        },
        {
          Node: 'fake-node',
          CheckID: checkId,
          Name: s.check?.Name ?? `Service '${s.Service}' check`,
          Status: s.status,
          ServiceID: s.ID,
          ServiceName: s.Service,
          Type: s.check?.HTTP ? 'http' : '',
        },
      ],
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const token = req.headers['x-consul-token'] as string | undefined;
    log.push({ method: req.method ?? '', path: req.url ?? '', token });
    const send = (status: number, payload: unknown) => {
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, {
        'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json',
        'x-consul-index': String(index),
      });
      res.end(text);
    };
    if (opts.token !== undefined && token !== opts.token)
      return send(403, token ? 'ACL not found' : 'Permission denied: anonymous token lacks permission');
    const blocking = async () => {
      const want = u.searchParams.get('index');
      if (want !== null) await waitFor(Number(want), parseWait(u.searchParams.get('wait')));
    };
    const p = u.pathname;
    if (req.method === 'PUT' && p === '/v1/agent/service/register') {
      const b = JSON.parse(body.toString() || '{}');
      const id = b.ID ?? b.Name;
      const old = services.get(id);
      const check = b.Check ?? null;
      const initial: CheckStatus = check ? ((check.Status as CheckStatus) ?? 'critical') : 'passing';
      services.set(id, {
        ID: id,
        Service: b.Name,
        Tags: b.Tags ?? [],
        Address: b.Address ?? '',
        Port: b.Port ?? 0,
        Meta: b.Meta ?? {},
        check,
        status: old ? old.status : initial,
        forced: old?.forced ?? false,
      });
      bump();
      return send(200, '');
    }
    let m = /^\/v1\/agent\/service\/deregister\/(.+)$/.exec(p);
    if (req.method === 'PUT' && m) {
      const id = decodeURIComponent(m[1]!);
      if (!services.delete(id))
        return send(
          404,
          `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`,
        );
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
        .map(healthEntry);
      return send(200, list);
    }
    m = /^\/v1\/kv\/(.*)$/.exec(p);
    if (m) {
      const key = decodeURIComponent(m[1]!);
      if (req.method === 'PUT') {
        const old = kv.get(key);
        kv.set(key, { value: body, createIndex: old?.createIndex ?? index + 1, modifyIndex: index + 1 });
        bump();
        return send(200, true);
      }
      if (req.method === 'DELETE') {
        if (u.searchParams.has('recurse'))
          for (const k of [...kv.keys()]) if (k.startsWith(key)) kv.delete(k);
        kv.delete(key);
        bump();
        return send(200, true);
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

  const make = (): Server => {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => void handle(req, res, Buffer.concat(chunks)).catch(() => res.destroy()));
    };
    return opts.tls ? createHttps(opts.tls, onRequest) : createHttp(onRequest);
  };
  let server = make();
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;
  const closeServer = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
      waiters = [];
      for (const finish of [...held]) finish();
    });
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    index: () => index,
    services: () => [...services.values()],
    kv: (key) => kv.get(key)?.value.toString(),
    requests: () => [...log],
    setStatus(id, status) {
      const s = services.get(id);
      if (!s) return;
      s.forced = true;
      if (s.status !== status) {
        s.status = status;
        bump();
      }
    },
    resetIndex(to = 1) {
      index = to;
      wake();
    },
    until(pred) {
      return new Promise((resolve) => {
        if (pred()) return resolve();
        const check = () => {
          if (!pred()) return;
          changes.off('change', check);
          resolve();
        };
        changes.on('change', check);
      });
    },
    stop: closeServer,
    async restart() {
      server = make();
      await listen(server, port);
    },
    async close() {
      clearInterval(checkTimer);
      await closeServer();
    },
  };
}
