// `grove gateway --upstreams URL,... | --consul [ADDR] | --discover dns:HOST:PORT [options]`
// (docs/multi-host.md): a gateway over fixed workers (static discovery), the passing `grove-worker`
// instances in Consul, whose split weights then live in Consul KV (grove/splits/<model>) so every
// gateway agrees, or every address of a DNS name such as a Kubernetes headless Service
// (docs/kubernetes.md). The options shared with `grove serve` are defined here.
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { DnsDiscovery, parseDnsTarget, systemResolver } from '../../gateway/discovery/dns-discovery.js';
import { KubernetesDiscovery, parseKubernetesTarget } from '../../gateway/discovery/kubernetes-discovery.js';
import { type Gateway, type GatewayOptions, startGateway } from '../../gateway/gateway.js';
import { isPolicyName, POLICY_NAMES, type PolicyName } from '../../gateway/policies/policy.js';
import { FileSplitBackend, type SplitBackend } from '../../gateway/split/split-registry.js';
import { JOBS_CLI_OPTIONS, JOBS_CLI_USAGE, jobsFromArgs } from '../../jobs/jobs-cli-options.js';
import type { ConsulClient } from '../../shared/consul/consul-client.js';
import { consulSettings } from '../../shared/consul/consul-settings.js';
import { GroveError } from '../../shared/errors/grove-error.js';
import { startTracing } from '../../shared/tracing/tracing.js';
import { parseCommandArgs } from '../command-args.js';

export const gatewayOptionSpecs = {
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    policy: { type: 'string' },
    'admin-port': { type: 'string' },
    'grpc-port': { type: 'string' },
    'admin-host': { type: 'string' },
    'admin-token': { type: 'string' },
    'state-dir': { type: 'string' },
    timeout: { type: 'string' },
    'max-inflight': { type: 'string' },
    'coalesce-per-worker': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'admin-client-ca': { type: 'string' },
    'log-level': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...JOBS_CLI_OPTIONS,
  },
  usage: `  --port P              public port (default 8080)
  --host H              public address (default 127.0.0.1)
  --policy P            ${POLICY_NAMES.join(' | ')} (default p2c)
  --admin-port P        admin API port (default 8081)
  --grpc-port P         also serve the Open Inference Protocol over gRPC on P, on --host (0 = any free port)
  --admin-host H        admin API address (default 127.0.0.1; a non-loopback address needs a token)
  --admin-token T       admin bearer token (or env GROVE_ADMIN_TOKEN; generated and printed if absent)
  --state-dir DIR       where split weights persist (splits.json) and jobs are kept (jobs-db/)
  --timeout MS          upstream timeout (default 10000)
  --max-inflight N      client requests in flight before new ones get 503/429 (default 4096; 0: no limit)
  --coalesce-per-worker N  calls of a model version in flight per worker before its one-row requests
                        wait and merge into one upstream call (default 4; 0: never merge)
  --tls-cert FILE       serve HTTPS on the public and admin listeners with this PEM certificate...
  --tls-key FILE        ...and this PEM private key
  --admin-client-ca FILE  admin clients must present a certificate this CA signed (mutual TLS)
  --log-level L         gateway log level on stderr (default warn)
${JOBS_CLI_USAGE}`,
} as const;

export function parseGatewayCommon(
  values: Record<string, string | boolean | undefined>,
): GatewayOptions & { policy: PolicyName } {
  const num = (name: string, dflt: number) => {
    const v = values[name];
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535 * 1000)
      throw new Error(`--${name} must be a non-negative integer`);
    return n;
  };
  const policy = (values.policy as string | undefined) ?? 'p2c';
  if (!isPolicyName(policy)) throw new Error(`--policy must be one of ${POLICY_NAMES.join(', ')}`);
  const cert = values['tls-cert'] as string | undefined;
  const key = values['tls-key'] as string | undefined;
  const clientCa = values['admin-client-ca'] as string | undefined;
  if ((cert === undefined) !== (key === undefined)) throw new Error('--tls-cert and --tls-key go together');
  if (clientCa !== undefined && cert === undefined)
    throw new Error('--admin-client-ca needs --tls-cert and --tls-key');
  const tls = cert !== undefined && key !== undefined ? { cert, key } : undefined;
  if (values['grpc-port'] !== undefined && num('grpc-port', 0) > 65535)
    throw new Error('--grpc-port must be a port number (0 = any free port)');
  const logger = pino(
    { name: 'grove-gateway', level: (values['log-level'] as string | undefined) ?? 'warn' },
    pino.destination(2),
  );
  return {
    port: num('port', 8080),
    host: (values.host as string | undefined) ?? '127.0.0.1',
    policy,
    adminPort: num('admin-port', 8081),
    ...(values['grpc-port'] === undefined ? {} : { grpcPort: num('grpc-port', 0) }),
    adminHost: (values['admin-host'] as string | undefined) ?? '127.0.0.1',
    adminToken: (values['admin-token'] as string | undefined) ?? (process.env.GROVE_ADMIN_TOKEN || undefined),
    timeoutMs: num('timeout', 10_000),
    maxInflight: num('max-inflight', 4096),
    coalescePerWorker: num('coalesce-per-worker', 4),
    ...(tls ? { tls, adminTls: { ...tls, ...(clientCa ? { clientCa } : {}) } } : {}),
    logger,
    // Off unless the OTEL_* variables ask for it (docs/tracing.md).
    tracing: startTracing({ serviceName: 'grove-gateway', logger }),
  };
}

export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (s: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve(s);
    };
    const onTerm = () => on('SIGTERM');
    const onInt = () => on('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}

const USAGE = `usage: grove gateway (--upstreams URL,... | --consul [ADDR] | --discover SPEC) [options]

  --upstreams URLS      comma-separated worker URLs (static discovery)
  --consul [ADDR]       discover passing grove-worker instances in Consul; splits in Consul KV;
                        ADDR is HOST:PORT or http(s)://HOST:PORT (default: CONSUL_HTTP_ADDR, else
                        127.0.0.1:8500); CONSUL_HTTP_TOKEN and CONSUL_CACERT are honoured
  --discover dns:HOST:PORT
                        every A/AAAA address of HOST is a worker on PORT (a Kubernetes headless
                        Service); re-resolved every --discover-interval and when a worker fails
  --discover kubernetes[:SERVICE[:PORT]]
                        watch the EndpointSlices of SERVICE (default grove-worker) in the namespace
                        of the kubeconfig context or pod; PORT a port name or number (default http)
  --discover-interval MS  DNS re-resolution period (default 5000)
  --dns-server ADDR     ask these DNS servers (comma-separated IP or IP:PORT; HOST must then be a full
                        name); default: the system resolver, with resolv.conf's search domains
  --models DIR          read default splits from DIR/<model>/config.json
  --cluster-metrics     also serve every worker's metrics on /metrics, labelled worker="<id>"
                        (for workers Prometheus cannot reach; grove serve always does)
${gatewayOptionSpecs.usage}`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'gateway',
    argv,
    {
      ...gatewayOptionSpecs.options,
      upstreams: { type: 'string' },
      consul: { type: 'string' },
      discover: { type: 'string' },
      'discover-interval': { type: 'string' },
      'dns-server': { type: 'string' },
      models: { type: 'string' },
      'cluster-metrics': { type: 'boolean' },
    },
    USAGE,
    ['consul'],
  );
  if (typeof parsed === 'number') return parsed;
  const values: Record<string, string | boolean | undefined> = parsed;
  const upstreams = splitList(values.upstreams);
  const consul = values.consul as string | undefined;
  const discover = values.discover as string | undefined;
  if ([upstreams.length > 0, consul !== undefined, discover !== undefined].filter(Boolean).length !== 1) {
    process.stderr.write(
      `grove gateway: give exactly one of --upstreams, --consul or --discover\n\n${USAGE}`,
    );
    return 2;
  }
  const dnsTarget = discover === undefined ? null : parseDnsTarget(discover);
  const k8sTarget = discover === undefined ? null : parseKubernetesTarget(discover);
  if (discover !== undefined && dnsTarget === null && k8sTarget === null) {
    process.stderr.write(
      `grove gateway: --discover '${discover}' is neither dns:HOST:PORT nor kubernetes[:SERVICE[:PORT]]\n`,
    );
    return 2;
  }
  for (const u of upstreams) {
    // The gateway speaks plain HTTP/1.1 to workers (as `grove worker` serves); TLS is for its listeners.
    if (!/^http:\/\/[^/]+\/?$/.test(u)) {
      process.stderr.write(`grove gateway: upstream '${u}' is not a URL like http://host:port\n`);
      return 2;
    }
  }
  let common: ReturnType<typeof parseGatewayCommon>;
  const stateDir = values['state-dir'] as string | undefined;
  let discoverIntervalMs = 5000;
  try {
    common = parseGatewayCommon(values);
    common.jobs = jobsFromArgs(values, stateDir ? resolve(stateDir) : undefined);
    if (values['discover-interval'] !== undefined) {
      discoverIntervalMs = Number(values['discover-interval']);
      if (!Number.isInteger(discoverIntervalMs) || discoverIntervalMs < 100 || discoverIntervalMs > 3_600_000)
        throw new Error('--discover-interval must be an integer from 100 to 3600000 (ms)');
    }
  } catch (err) {
    process.stderr.write(`grove gateway: ${(err as Error).message}\n`);
    return 2;
  }
  let backend: SplitBackend | null = stateDir
    ? new FileSplitBackend(join(resolve(stateDir), 'splits.json'))
    : null;
  let client: ConsulClient | null = null;
  // Loaded only with --consul: a static gateway does not pay for the client.
  const consulMode =
    consul === undefined ? null : await import('../../gateway/discovery/consul-discovery.js');
  if (consulMode) {
    try {
      const { consulClient } = await import('../../shared/consul/consul-client.js');
      client = consulClient(consulSettings(consul));
    } catch (err) {
      process.stderr.write(`grove gateway: ${(err as Error).message}\n`);
      return 2;
    }
    backend = new consulMode.ConsulSplitBackend(client);
  }
  let gw: Gateway;
  try {
    gw = await startGateway({
      ...common,
      modelsDir: typeof values.models === 'string' ? resolve(values.models) : undefined,
      splitBackend: backend,
      pollVersions: true,
    });
  } catch (err) {
    if (err instanceof GroveError) {
      process.stderr.write(`grove gateway: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (values['cluster-metrics'] === true) gw.metrics.includeWorkers(gw.workers);
  for (const [i, u] of upstreams.entries()) gw.workers.add(`static-${i}`, u);
  const log = (m: string) => process.stderr.write(`grove gateway: ${m}\n`);
  let discovery: { stop(): void } | null = null;
  if (client && consulMode) {
    const d = new consulMode.ConsulDiscovery(client, gw.workers, { log });
    d.start();
    discovery = d;
  }
  if (dnsTarget) {
    let resolver: ReturnType<typeof systemResolver>;
    try {
      resolver = systemResolver(splitList(values['dns-server']));
    } catch (err) {
      process.stderr.write(`grove gateway: --dns-server: ${(err as Error).message}\n`);
      await gw.close();
      return 2;
    }
    const d = new DnsDiscovery(dnsTarget, gw.workers, {
      resolver,
      intervalMs: discoverIntervalMs,
      // A new pod is health-checked (and its versions read) at once, not at the next interval.
      onAdded: (w) => void gw.health.check(w),
      log,
    });
    discovery = d;
    await d.start();
  }
  if (k8sTarget) {
    const d = new KubernetesDiscovery(k8sTarget, gw.workers, {
      onAdded: (w) => void gw.health.check(w),
      log,
    });
    discovery = d;
    try {
      await d.start();
    } catch (err) {
      // No kubeconfig and not in a pod: nothing to watch.
      process.stderr.write(`grove gateway: --discover kubernetes: ${(err as Error).message}\n`);
      await gw.close();
      return 2;
    }
  }
  await gw.health.runOnce();
  process.stdout.write(`grove gateway listening on ${gw.url}\n`);
  if (gw.adminUrl) process.stdout.write(`grove admin listening on ${gw.adminUrl}\n`);
  if (gw.grpcAddress) process.stdout.write(`grove gateway grpc listening on ${gw.grpcAddress}\n`);
  if (gw.tokenGenerated) process.stdout.write(`grove admin token: ${gw.adminToken}\n`);
  await waitForSignal();
  discovery?.stop();
  backend?.close?.();
  await gw.close();
  client?.destroy();
  await common.tracing?.shutdown();
  return 0;
}

function splitList(v: string | boolean | undefined): string[] {
  return typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}
