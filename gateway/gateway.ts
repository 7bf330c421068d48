// Composes a gateway: the worker set (fed by a discovery source), policies, split registry,
// upstream caller, coalescer, admission control, the public listener (fast front + node:http, plain
// or TLS) and the admin listener (bearer token; TLS, optionally requiring client certificates).
// Used by `grove serve`, `grove gateway` and the tests. The returned Gateway also exposes the
// forward path for non-HTTP fronts (`forwarder`) and lets other modules add routes to either
// listener (`addPublicRoute`, `addAdminRoute`).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { type Logger, pino } from 'pino';
import { type JobsOptions, JobsService, withJobRoutes } from '../jobs/jobs-service.js';
import { GroveError } from '../shared/errors/grove-error.js';
import { createFastFront } from '../shared/http/fast-front.js';
import { answerClientError, createNodeServer } from '../shared/http/node-server.js';
import { type GrpcListener, listenGrpc } from '../shared/protocol/grpc/inference-service.js';
import type { Tracing } from '../shared/tracing/tracing.js';
import { Admission } from './admission/admission.js';
import { Coalescer } from './forward/coalescer.js';
import { ForwardTracer } from './forward/forward-trace.js';
import { type ForwardEvent, Forwarder, headerReader } from './forward/forwarder.js';
import { UpstreamCaller } from './forward/upstream-call.js';
import { gatewayGrpcBackend } from './grpc/gateway-grpc-backend.js';
import { type AdminRouteHandler, AdminRoutes } from './http/admin-handler.js';
import { LocalRoutes } from './http/local-routes.js';
import { PassThrough } from './http/pass-through.js';
import { PublicFront, type PublicRouteHandler } from './http/public-front.js';
import { repositoryRoutes } from './http/repository-fan-out.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { createPolicy } from './policies/create-policy.js';
import type { PolicyName, Rng } from './policies/policy.js';
import { VersionChooser } from './routing/version-choice.js';
import { type SplitBackend, SplitRegistry } from './split/split-registry.js';
import { DEFAULT_DATA_POOL } from './upstream/data-pool.js';
import { logUpstreamFailures } from './upstream/failure-log.js';
import { HealthChecker } from './upstream/health-checker.js';
import { DEFAULT_OUTLIER } from './upstream/outlier-detector.js';
import { RetryBudget } from './upstream/retry-budget.js';
import { WorkerSet } from './upstream/worker-set.js';

export interface TlsFiles {
  /** PEM certificate (chain) and private key files. */
  cert: string;
  key: string;
  /** Admin only: a PEM CA; clients must present a certificate it signed (mTLS). */
  clientCa?: string;
}

export interface GatewayOptions {
  port?: number;
  host?: string;
  policy?: PolicyName;
  adminPort?: number;
  adminHost?: string;
  /** Admin bearer token; generated (and reported through `onToken`) on loopback when absent. */
  adminToken?: string;
  /** Disable the admin listener (tests of the public side). */
  admin?: boolean;
  splitBackend?: SplitBackend | null;
  modelsDir?: string;
  /** Active health checks also poll GET /v2/models (static and consul modes). */
  pollVersions?: boolean;
  healthIntervalMs?: number;
  timeoutMs?: number;
  /** Data connections per worker (default 16), pipelined up to `pipelining` deep (default 8). */
  connections?: number;
  pipelining?: number;
  /** Calls waiting for a worker's connections past which it refuses more (default 1024). */
  workerQueue?: number;
  bodyLimit?: number;
  /** A request whose head or body is still arriving after this gets 408 (node:http's headersTimeout is 60 s). */
  requestReadTimeoutMs?: number;
  maxCoalesceRows?: number;
  /**
   * Calls of a version in flight per worker before its requests merge (default 4). Merging moves
   * a worker's per-call cost onto the gateway (parse, merge, split): worth it when calls queue at
   * the workers, a loss when the gateway is the busier process, as with a few connections
   * (gateway/README.md#cost-per-request-what-npm-run-benchgateway-compares has the figures).
   */
  coalescePerWorker?: number;
  /** Client requests in flight past which new ones get 503 / 429 (default 4096; 0: no limit). */
  maxInflight?: number;
  /** Also serve the Open Inference Protocol over gRPC on this port (0 = any free port), on `host`. */
  grpcPort?: number;
  /** Serve the public listener over TLS. */
  tls?: TlsFiles;
  /** Serve the admin listener over TLS (with `clientCa`: mutual TLS). */
  adminTls?: TlsFiles;
  logger?: Logger;
  /** OpenTelemetry (startTracing with service grove-gateway): spans on the prediction path. */
  tracing?: Tracing | null;
  /** Hears every client request's end (for tracing); absent: no cost. */
  onForward?: (e: ForwardEvent) => void;
  rng?: Rng;
  now?: () => number;
  baseEjectionMs?: number;
  /** Durable prediction jobs (docs/jobs.md); absent: the jobs routes answer 501. */
  jobs?: JobsOptions | null;
}

export interface Gateway {
  url: string;
  port: number;
  adminUrl: string | null;
  /** `host:port` of the gRPC listener, or null without --grpc-port. */
  grpcAddress: string | null;
  adminToken: string | null;
  tokenGenerated: boolean;
  workers: WorkerSet;
  splits: SplitRegistry;
  metrics: GatewayMetrics;
  health: HealthChecker;
  admission: Admission;
  /** The prediction path, for fronts other than HTTP. */
  forwarder: Forwarder;
  /** node:http server of the public listener (it serves what the fast front hands over). */
  server: Server;
  addPublicRoute(method: string, pattern: string, handler: PublicRouteHandler): void;
  addAdminRoute(method: string, pattern: string, handler: AdminRouteHandler): void;
  jobs: JobsService | null;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function readTls(t: TlsFiles): { cert: Buffer; key: Buffer; ca?: Buffer } {
  return {
    cert: readFileSync(t.cert),
    key: readFileSync(t.key),
    ...(t.clientCa ? { ca: readFileSync(t.clientCa) } : {}),
  };
}

export async function startGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  const host = opts.host ?? '127.0.0.1';
  const adminHost = opts.adminHost ?? '127.0.0.1';
  const wantAdmin = opts.admin !== false;
  let token = opts.adminToken ?? null;
  let tokenGenerated = false;
  if (wantAdmin && !token) {
    if (!isLoopback(adminHost)) {
      throw new GroveError(
        `refusing to bind the admin API on non-loopback ${adminHost} without a token (--admin-token or GROVE_ADMIN_TOKEN)`,
        'GROVE_ERR_ADMIN_TOKEN_REQUIRED',
      );
    }
    // Hex, not base64url: a token starting with '-' cannot follow `--token` on a command line
    // (`grove split ... --token -Xy...` is refused as an ambiguous option).
    token = randomBytes(24).toString('hex');
    tokenGenerated = true;
  }
  // Read before anything listens: a missing certificate fails start-up, not the first request.
  const publicTls = opts.tls ? readTls(opts.tls) : null;
  const adminTls = opts.adminTls ? readTls(opts.adminTls) : null;
  const logger = opts.logger ?? pino({ level: 'silent' });
  const rng = opts.rng ?? Math.random;
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const bodyLimit = opts.bodyLimit ?? 64 * 1024 * 1024;
  const workers = new WorkerSet(
    {
      timeoutMs,
      outlier: { ...DEFAULT_OUTLIER, baseEjectionMs: opts.baseEjectionMs ?? DEFAULT_OUTLIER.baseEjectionMs },
      pool: {
        ...DEFAULT_DATA_POOL,
        maxConnections: opts.connections ?? DEFAULT_DATA_POOL.maxConnections,
        pipelining: opts.pipelining ?? DEFAULT_DATA_POOL.pipelining,
        queueLimit: opts.workerQueue ?? DEFAULT_DATA_POOL.queueLimit,
        maxAnswerBytes: bodyLimit,
      },
    },
    now,
  );
  const metrics = new GatewayMetrics();
  const splits = new SplitRegistry(opts.splitBackend ?? null);
  if (opts.modelsDir) await splits.seedFromRepository(opts.modelsDir);
  await splits.start();
  const caller = new UpstreamCaller(
    workers,
    createPolicy(opts.policy ?? 'p2c'),
    rng,
    new RetryBudget(0.2, 3),
    metrics,
  );
  caller.log = logUpstreamFailures(logger);
  const admission = new Admission(opts.maxInflight ?? 4096);
  metrics.watchAdmission(admission);
  const maxCoalesceRows = opts.maxCoalesceRows ?? 128;
  const tracer = opts.tracing ? new ForwardTracer(opts.tracing) : null;
  let forwarder!: Forwarder;
  const coalescer = new Coalescer(
    caller,
    workers,
    metrics,
    { maxRows: maxCoalesceRows, perWorker: opts.coalescePerWorker ?? 4 },
    (it, a, body, pass) => forwarder.respondItem(it, a, body, pass),
    (it, err) => forwarder.failItem(it, err),
  );
  const chooser = new VersionChooser(workers, splits, rng);
  forwarder = new Forwarder(workers, splits, chooser, caller, coalescer, admission, metrics, rng, {
    maxCoalesceRows,
    tracer,
    logger,
    ...(opts.onForward ? { onForward: opts.onForward } : {}),
  });
  coalescer.tracer = tracer;
  const front = new PublicFront(
    forwarder,
    new PassThrough(caller, forwarder, timeoutMs),
    new LocalRoutes(workers, forwarder, metrics),
    bodyLimit,
  );
  const jobs = opts.jobs
    ? new JobsService(opts.jobs, {
        workers,
        caller,
        chooseVersion: (h, m, v) => chooser.choose(m, v, headerReader(h)),
        registry: metrics.registry,
      })
    : null;
  // Stored predictions are looked up by key at rate: off the fast front, like the other bodiless GETs.
  if (jobs)
    front.addRoute(
      'GET',
      '/v1/models/{model}/predictions/{key}',
      (req, res) => void jobs.route(req, res),
      'lookup',
      (_req, reply, p, id) => jobs.lookupFast(reply, p.model!, p.key!, id),
    );
  const health = new HealthChecker(workers, {
    intervalMs: opts.healthIntervalMs ?? 1000,
    timeoutMs: 2000,
    pollVersions: opts.pollVersions ?? true,
    unhealthyThreshold: 2,
  });

  // node:http serves what the fast front hands over (every route but POST predict/infer with a
  // Content-Length body); it never listens itself.
  const server = createNodeServer(withJobRoutes(jobs, front.handle), {
    bodyLimit,
    ...(jobs ? { bodyLimitOf: (req: IncomingMessage) => jobs.bodyLimitOf(req) } : {}),
  });
  const fast = createFastFront(front, server, {
    bodyLimit,
    gets: true,
    stallTimeoutMs: opts.requestReadTimeoutMs ?? 60_000,
    ...(publicTls ? { tls: { ...publicTls, ALPNProtocols: ['http/1.1'] } } : {}),
  });
  // A listener that cannot start ends start-up with nothing left running (jobs store, workers),
  // so the command that called us can exit with its error.
  const abandon = async (err: unknown): Promise<never> => {
    fast.server.close();
    await jobs?.close().catch(() => {});
    await workers.close();
    throw err;
  };
  await listen(fast.server, opts.port ?? 8080, host).catch(abandon);
  const port = (fast.server.address() as AddressInfo).port;
  let admin: Server | null = null;
  let adminUrl: string | null = null;
  const adminRoutes = wantAdmin ? new AdminRoutes(workers, splits, token!) : null;
  if (adminRoutes) {
    admin = adminTls
      ? createHttpsServer(
          {
            ...adminTls,
            requestCert: adminTls.ca !== undefined,
            rejectUnauthorized: adminTls.ca !== undefined,
          },
          adminRoutes.handle,
        )
      : createHttpServer(adminRoutes.handle);
    for (const r of repositoryRoutes(workers, {
      token: token!,
      maxBodyBytes: 256 * 1024 * 1024,
      timeoutMs: Math.max(timeoutMs, 60_000),
    }))
      adminRoutes.add(r.method, r.pattern, r.handler);
    admin.on('clientError', answerClientError);
    try {
      await listen(admin, opts.adminPort ?? 8081, adminHost);
    } catch (err) {
      await abandon(err);
    }
    adminUrl = `${adminTls ? 'https' : 'http'}://${fmtHost(adminHost)}:${(admin.address() as AddressInfo).port}`;
  }
  let grpc: GrpcListener | null = null;
  if (opts.grpcPort !== undefined) {
    try {
      grpc = await listenGrpc({
        host,
        port: opts.grpcPort,
        backend: gatewayGrpcBackend(forwarder, caller, workers),
        maxMessageBytes: bodyLimit,
      });
    } catch (err) {
      admin?.close();
      await abandon(err);
    }
  }
  health.start();
  return {
    url: `${publicTls ? 'https' : 'http'}://${fmtHost(host)}:${port}`,
    port,
    adminUrl,
    grpcAddress: grpc?.address ?? null,
    adminToken: wantAdmin ? token : null,
    tokenGenerated,
    workers,
    splits,
    metrics,
    health,
    admission,
    forwarder,
    server,
    jobs,
    addPublicRoute: (method, pattern, handler) => front.addRoute(method, pattern, handler),
    addAdminRoute: (method, pattern, handler) => {
      if (!adminRoutes) throw new Error('the admin listener is disabled');
      adminRoutes.add(method, pattern, handler);
    },
    async close() {
      health.stop();
      await Promise.all([fast.close(), admin ? closeServer(admin) : undefined, grpc?.close(2000)]);
      await jobs?.close();
      await workers.close();
    },
  };
}

function fmtHost(h: string): string {
  return h.includes(':') ? `[${h}]` : h;
}

function listen(s: Server | NetServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => {
      s.off('error', reject);
      resolve();
    });
  });
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeIdleConnections();
    setTimeout(() => s.closeAllConnections(), 2000).unref();
  });
}
