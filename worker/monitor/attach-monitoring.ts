// Wires drift monitoring and the prediction log into a running worker with one call from
// worker/start-worker.ts: a MonitorHub observer over the repository's versions, the monitor route
// `GET /v2/models/{m}/versions/{v}/monitor` (docs/monitoring.md), its Prometheus series, the alert webhook
// sender, and the prediction log observer. Both observers are closed (webhook drained, log
// flushed) by the returned close(), which the worker's graceful stop awaits.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { BadInputError, UnavailableError } from '../../shared/errors/grove-error.js';
import { scrapedCounter } from '../../shared/metrics/scraped-series.js';
import { WebhookSender } from '../../shared/webhook/webhook-sender.js';
import { sendModelJson } from '../http/respond.js';
import type { RequestContext, RouteParams } from '../http/router.js';
import type { PredictionObserver } from '../observer.js';
import { PredictionLog } from '../prediction-log/prediction-log.js';
import type { LoadedVersion } from '../repository/loaded-version.js';
import { type MonitoredVersion, MonitorHub } from './monitor-hub.js';
import { type MonitorMetrics, registerMonitorMetrics } from './monitor-metrics.js';

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: RouteParams,
  ctx: RequestContext,
) => unknown;

/** The part of a RunningWorker monitoring needs (structural, so tests can pass a fake). */
export interface MonitorHost {
  router: { add(method: string, pattern: string, handler: Handler, name?: string): void };
  metrics: Registry;
  logger: Logger;
  repository: { resolve(name: string, version: string | undefined): LoadedVersion };
  addObserver(o: PredictionObserver): void;
}

export interface MonitoringOptions {
  /** false: no drift monitor (`--no-monitor`); the prediction log still works. */
  monitor?: boolean;
  alertWebhook?: string | null;
  predictionLog?: string | null;
  predictionLogSample?: number;
  predictionLogMaxBytes?: number;
  /** Alarm evaluation period (ms). */
  evaluateIntervalMs?: number;
}

export interface AttachedMonitoring {
  hub: MonitorHub | null;
  predictionLog: PredictionLog | null;
  close(): Promise<void>;
}

function monitoredVersion(v: LoadedVersion): MonitoredVersion {
  return {
    model: v.name,
    version: v.version,
    sha256: v.sha256,
    dir: v.dir,
    featureNames: v.featureNames,
    task: v.model.meta.task,
    outputNames: v.model.meta.outputNames,
    config: v.config,
    served: v.model,
  };
}

export function attachMonitoring(host: MonitorHost, opts: MonitoringOptions = {}): AttachedMonitoring {
  const log = host.logger;
  let hub: MonitorHub | null = null;
  if (opts.alertWebhook) {
    let ok = false;
    try {
      const u = new URL(opts.alertWebhook);
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      // reported below
    }
    if (!ok) throw new BadInputError(`--alert-webhook must be an http(s) URL, not '${opts.alertWebhook}'`);
  }
  if (opts.monitor !== false) {
    let metrics: MonitorMetrics | null = null;
    const webhook = opts.alertWebhook
      ? new WebhookSender({
          url: opts.alertWebhook,
          onSent: () => metrics?.webhookSent.inc({ outcome: 'sent' }),
          onDrop: (reason) => {
            metrics?.webhookSent.inc({ outcome: `dropped_${reason}` });
            log.warn({ event: 'alert_webhook_dropped', reason }, 'alert webhook notice dropped');
          },
          onError: (err, attempt) =>
            log.debug(
              { event: 'alert_webhook_error', attempt, err: String(err) },
              'alert webhook attempt failed',
            ),
        })
      : null;
    const resolve = (model: string, version: string) => {
      try {
        return monitoredVersion(host.repository.resolve(model, version));
      } catch {
        return null;
      }
    };
    hub = new MonitorHub({ resolve, logger: log, webhook, intervalMs: opts.evaluateIntervalMs ?? 1000 });
    metrics = registerMonitorMetrics(host.metrics, hub);
    const monitored = hub;
    host.router.add(
      'GET',
      '/v2/models/{model}/versions/{version}/monitor',
      (_req, res, p, ctx) => {
        const v = host.repository.resolve(p.model!, p.version!);
        const m = monitored.get(p.model!, p.version!);
        if (!m)
          throw new UnavailableError(`monitoring is off for model '${p.model}'`, 'GROVE_ERR_MONITOR_OFF');
        monitored.evaluate(m);
        ctx.served = v;
        const body = m.response();
        const tracker = monitored.tracker(m);
        if (tracker) body.contributions = tracker.response();
        sendModelJson(res, 200, JSON.stringify(body), ctx.requestId, v);
      },
      'monitor',
    );
    host.addObserver(hub);
  }
  let plog: PredictionLog | null = null;
  if (opts.predictionLog) {
    plog = new PredictionLog({
      dir: opts.predictionLog,
      sampleRate: opts.predictionLogSample ?? 1,
      ...(opts.predictionLogMaxBytes ? { maxFileBytes: opts.predictionLogMaxBytes } : {}),
      onError: (err) =>
        log.error({ event: 'prediction_log_error', err: String(err) }, 'prediction log write failed'),
    });
    const p = plog;
    // The counters read the log's own tallies at scrape time: nothing extra on the request path.
    scrapedCounter(
      host.metrics,
      'grove_prediction_log_dropped_total',
      'Prediction log records dropped because the disk fell behind (buffer full).',
      () => p.dropped,
    );
    scrapedCounter(
      host.metrics,
      'grove_prediction_log_records_total',
      'Prediction log records accepted for writing (after sampling).',
      () => p.records,
    );
    host.addObserver(plog);
  }
  return {
    hub,
    predictionLog: plog,
    async close() {
      await Promise.allSettled([hub?.close(), plog?.close()]);
    },
  };
}
