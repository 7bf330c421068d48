// A Kubernetes API server the test controls (node:http on 127.0.0.1, port 0), answering what an
// EndpointSlice informer asks: GET .../namespaces/NS/endpointslices?labelSelector=... (a list with
// a resourceVersion) and the same with watch=true (a stream of {"type","object"} JSON lines, kept
// open, replaying what came after the resourceVersion it resumes from). The test adds, changes and
// deletes slices; open watches get the events. `failing` answers 503 and cuts open watches, as an
// API server that went away; compact() makes older resourceVersions expire (410). kubeconfig().
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSlice {
  name: string;
  service: string;
  addressType?: 'IPv4' | 'IPv6' | 'FQDN';
  ports: { name?: string; port: number }[];
  endpoints: { addresses: string[]; ready?: boolean | null }[];
}

export interface FakeKubeApi {
  url: string;
  namespace: string;
  set(s: FakeSlice): void;
  delete(name: string): void;
  failing: boolean;
  /** Authorization headers received, and the paths asked (list or watch). */
  auth: string[];
  requests: string[];
  /** Watches currently open. */
  watching(): number;
  /** Forgets the history: a watch resuming from before now gets 410 Gone and must list again. */
  compact(): void;
  kubeconfig(): string;
  close(): Promise<void>;
}

export async function startFakeKubeApi(namespace = 'grove'): Promise<FakeKubeApi> {
  const slices = new Map<string, FakeSlice>();
  const watches = new Set<{ res: ServerResponse; service: string }>();
  let rv = 1;
  const object = (s: FakeSlice, version = rv) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: s.name,
      namespace,
      resourceVersion: String(version),
      labels: { 'kubernetes.io/service-name': s.service },
    },
    addressType: s.addressType ?? 'IPv4',
    ports: s.ports.map((p) => ({ protocol: 'TCP', ...p })),
    endpoints: s.endpoints.map((e) => ({
      addresses: e.addresses,
      conditions: e.ready === undefined ? {} : { ready: e.ready },
    })),
  });
  // Every change, so a watch resumed from a resourceVersion gets what it missed (as etcd's history).
  const history: { rv: number; service: string; line: string }[] = [];
  let compactedAt = 0;
  const emit = (type: string, s: FakeSlice) => {
    const line = `${JSON.stringify({ type, object: object(s) })}\n`;
    history.push({ rv, service: s.service, line });
    for (const w of watches) if (w.service === s.service) w.res.write(line);
  };
  const api: FakeKubeApi = {
    url: '',
    namespace,
    failing: false,
    auth: [],
    requests: [],
    set(s) {
      const type = slices.has(s.name) ? 'MODIFIED' : 'ADDED';
      slices.set(s.name, s);
      rv++;
      emit(type, s);
    },
    delete(name) {
      const s = slices.get(name);
      if (!s) return;
      slices.delete(name);
      rv++;
      emit('DELETED', s);
    },
    watching: () => watches.size,
    compact() {
      history.length = 0;
      compactedAt = rv;
    },
    kubeconfig: () =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        // client-node refuses plain http unless TLS verification is declared off.
        clusters: [{ name: 'fake', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'gateway', user: { token: 'test-token' } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'gateway', namespace } }],
        'current-context': 'fake',
      }),
    close: () =>
      new Promise((r) => {
        for (const w of watches) w.res.destroy();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    api.auth.push(String(req.headers.authorization));
    const watch = u.searchParams.get('watch') === 'true';
    api.requests.push(watch ? 'watch' : 'list');
    if (api.failing) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"kind":"Status","code":503}');
      return;
    }
    const m = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/.exec(u.pathname);
    const sel = /^kubernetes\.io\/service-name=(.+)$/.exec(u.searchParams.get('labelSelector') ?? '');
    if (!m || m[1] !== namespace || !sel) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}');
      return;
    }
    const service = sel[1]!;
    if (watch) {
      res.writeHead(200, { 'content-type': 'application/json' });
      const from = Number(u.searchParams.get('resourceVersion') ?? '0');
      if (from < compactedAt) {
        // What the API server answers a watch from a compacted resourceVersion.
        res.end(
          `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`,
        );
        return;
      }
      for (const h of history) if (h.rv > from && h.service === service) res.write(h.line);
      res.flushHeaders();
      const w = { res, service };
      watches.add(w);
      res.on('close', () => watches.delete(w));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSliceList',
        metadata: { resourceVersion: String(rv) },
        items: [...slices.values()].filter((s) => s.service === service).map((s) => object(s)),
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const setFailing = (v: boolean) => {
    if (v) for (const w of watches) w.res.destroy();
  };
  let failing = false;
  Object.defineProperty(api, 'failing', {
    get: () => failing,
    set: (v: boolean) => {
      failing = v;
      setFailing(v);
    },
  });
  return api;
}
