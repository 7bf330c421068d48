// Composes a gateway: the worker set (fed by a discovery source), policies, split registry,
// upstream caller, coalescer, the public listener and the admin listener. Used by `grove serve`,
// `grove gateway` and the tests.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { type JobsOptions, JobsService, withJobRoutes } from '../jobs/jobs-service.js';
import { GroveError } from '../shared/errors/grove-error.js';
import { createFastFront } from '../shared/http/fast-front.js';
import { Coalescer } from './forward/coalescer.js';
import { UpstreamCaller } from './forward/upstream-call.js';
import { adminHandler } from './http/admin-handler.js';
import { PublicHandler } from './http/public-handler.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { createPolicy } from './policies/create-policy.js';
import type { PolicyName, Rng } from './policies/policy.js';
import { type SplitBackend, SplitRegistry } from './split/split-registry.js';
import { HealthChecker } from './upstream/health-checker.js';
import { DEFAULT_OUTLIER } from './upstream/outlier-detector.js';
import { RetryBudget } from './upstream/retry-budget.js';
import { WorkerSet } from './upstream/worker-set.js';

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
  connections?: number;
  bodyLimit?: number;
  /** A request whose head or body is still arriving after this gets 408 (node:http's headersTimeout is 60 s). */
  requestReadTimeoutMs?: number;
  maxCoalesceRows?: number;
  coalescePerWorker?: number;
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
  adminToken: string | null;
  tokenGenerated: boolean;
  workers: WorkerSet;
  splits: SplitRegistry;
  metrics: GatewayMetrics;
  health: HealthChecker;
  server: Server;
  jobs: JobsService | null;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
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
    token = randomBytes(24).toString('base64url');
    tokenGenerated = true;
  }
  const rng = opts.rng ?? Math.random;
  const now = opts.now ?? Date.now;
  const workers = new WorkerSet(
    {
      connections: opts.connections ?? 32,
      timeoutMs: opts.timeoutMs ?? 10_000,
      outlier: { ...DEFAULT_OUTLIER, baseEjectionMs: opts.baseEjectionMs ?? DEFAULT_OUTLIER.baseEjectionMs },
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
  let handler!: PublicHandler;
  const coalescer = new Coalescer(
    caller,
    workers,
    metrics,
    { maxRows: opts.maxCoalesceRows ?? 128, perWorker: opts.coalescePerWorker ?? 2 },
    (it, m, v, a, b) => handler.respondItem(it, m, v, a, b),
    (it, m, v, e) => handler.failItem(it, m, v, e),
  );
  handler = new PublicHandler(workers, splits, caller, coalescer, metrics, rng, {
    bodyLimit: opts.bodyLimit ?? 64 * 1024 * 1024,
    maxCoalesceRows: opts.maxCoalesceRows ?? 128,
  });
  const jobs = opts.jobs
    ? new JobsService(opts.jobs, {
        workers,
        caller,
        chooseVersion: handler.chooseVersion.bind(handler),
        registry: metrics.registry,
      })
    : null;
  const health = new HealthChecker(workers, {
    intervalMs: opts.healthIntervalMs ?? 1000,
    timeoutMs: 2000,
    pollVersions: opts.pollVersions ?? true,
    unhealthyThreshold: 2,
  });

  // node:http serves what the fast front hands over (every route but POST predict/infer with a
  // Content-Length body); it never listens itself.
  const server = createServer({ keepAliveTimeout: 65_000 }, withJobRoutes(jobs, handler.handle));
  const front = createFastFront(handler, server, {
    bodyLimit: opts.bodyLimit ?? 64 * 1024 * 1024,
    stallTimeoutMs: opts.requestReadTimeoutMs ?? 60_000,
  });
  await listen(front.server, opts.port ?? 8080, host);
  const port = (front.server.address() as AddressInfo).port;
  let admin: Server | null = null;
  let adminUrl: string | null = null;
  if (wantAdmin) {
    admin = createServer(adminHandler(workers, splits, token!));
    try {
      await listen(admin, opts.adminPort ?? 8081, adminHost);
    } catch (err) {
      front.server.close();
      void jobs?.close();
      throw err;
    }
    adminUrl = `http://${fmtHost(adminHost)}:${(admin.address() as AddressInfo).port}`;
  }
  health.start();
  return {
    url: `http://${fmtHost(host)}:${port}`,
    port,
    adminUrl,
    adminToken: wantAdmin ? token : null,
    tokenGenerated,
    workers,
    splits,
    metrics,
    health,
    server,
    jobs,
    async close() {
      health.stop();
      await Promise.all([front.close(), admin ? closeServer(admin) : undefined]);
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
