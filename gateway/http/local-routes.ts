// The answers the gateway gives itself: liveness, readiness (ready once it knows what its workers
// serve: gateway/README.md, Readiness), the cluster's model list, its own /metrics, and fan-out
// views merged from every worker holding a version (fan-out.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RetryLaterError } from '../../shared/errors/grove-error.js';
import { NodeReply, type Reply, replyError, replyJson } from '../../shared/http/reply.js';
import type { RouteParams } from '../../shared/http/router.js';
import type { Forwarder } from '../forward/forwarder.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { WorkerSet } from '../upstream/worker-set.js';
import { type FanOutRoute, fanOut } from './fan-out.js';

export class LocalRoutes {
  constructor(
    private readonly workers: WorkerSet,
    private readonly forwarder: Forwarder,
    private readonly metrics: GatewayMetrics,
  ) {}

  live(res: Reply, requestId: string): void {
    replyJson(res, 200, { live: true }, requestId);
  }

  ready(res: Reply, requestId: string): void {
    if (this.workers.ready()) {
      replyJson(res, 200, { ready: true }, requestId);
      return;
    }
    const e = new RetryLaterError(
      this.workers.anyUsable().length === 0
        ? 'no healthy worker'
        : 'the gateway does not yet know what every worker serves',
    );
    replyJson(res, 503, { ...e.toJSON(), ready: false }, requestId, ['retry-after', String(e.retryAfterS)]);
  }

  models(res: Reply, requestId: string): void {
    const models = [...this.workers.models()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, vs]) => ({ name, versions: [...vs].sort((a, b) => Number(a) - Number(b)) }));
    replyJson(res, 200, { models }, requestId);
  }

  metricsText(res: Reply, requestId: string): void {
    this.metrics.registry.metrics().then(
      (text) =>
        res.send(200, ['content-type', this.metrics.registry.contentType, 'x-request-id', requestId], text),
      (err) => replyError(res, err, requestId),
    );
  }

  /** A fan-out route: every usable worker holding the version, merged. */
  fanOut(
    route: FanOutRoute,
    req: IncomingMessage,
    res: ServerResponse,
    params: RouteParams,
    requestId: string,
  ): void {
    const model = params.model!;
    const version = params.version!;
    const reply = new NodeReply(res);
    const err = this.forwarder.versions.check(model, version);
    if (err !== null) {
      replyError(reply, err, requestId);
      return;
    }
    const call = this.forwarder.open(reply, requestId, req.socket.remoteAddress ?? '', req.headers);
    if (call === null) return;
    const path = (req.url ?? '').split('?')[0]!;
    fanOut(this.workers, model, version, path, requestId).then(
      (bodies) => {
        if (bodies.length === 0) {
          this.forwarder.fail(
            call,
            new RetryLaterError(`no healthy worker holds model '${model}' version ${version}`),
          );
          return;
        }
        const merged = route.merge(bodies);
        // The monitor's merge names the version's sha256 (docs/api.md, Tracing: every response names it).
        const sha = (merged as { sha256?: unknown } | null)?.sha256;
        const trace = ['x-grove-model', model, 'x-grove-model-version', version];
        if (typeof sha === 'string') trace.push('x-grove-model-sha256', sha);
        replyJson(reply, 200, merged ?? bodies[0], requestId, trace);
        this.forwarder.finish(call, 200, version, null, false);
      },
      (e) => this.forwarder.fail(call, e),
    );
  }
}
