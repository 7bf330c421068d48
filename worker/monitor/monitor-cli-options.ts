// The monitoring flags shared by `grove worker` and `grove serve` (--alert-webhook URL,
// --prediction-log DIR, --prediction-log-sample R, --no-monitor), and their hand-over to the
// worker processes `grove serve` forks (node:cluster passes the environment, not argv).
import type { MonitoringOptions } from './attach-monitoring.js';

export const MONITOR_CLI_OPTIONS = {
  'alert-webhook': { type: 'string' },
  'prediction-log': { type: 'string' },
  'prediction-log-sample': { type: 'string' },
  'no-monitor': { type: 'boolean' },
} as const;

export const MONITOR_CLI_USAGE = `  --alert-webhook URL   POST monitor alarms (firing / resolved) to this URL
  --prediction-log DIR  write sampled predictions as NDJSON to DIR (size-rotated)
  --prediction-log-sample R  share of requests logged, 0..1 (default 1)
  --no-monitor          turn the drift monitor off
`;

type Values = Record<string, unknown>;

/** Monitoring options from parsed flags; throws on a bad sample rate. */
export function monitoringFromArgs(values: Values): MonitoringOptions {
  const sample = values['prediction-log-sample'];
  let rate = 1;
  if (typeof sample === 'string') {
    rate = Number(sample);
    if (!(rate >= 0 && rate <= 1)) throw new Error('--prediction-log-sample must be a number from 0 to 1');
  }
  return {
    monitor: values['no-monitor'] !== true,
    alertWebhook: typeof values['alert-webhook'] === 'string' ? values['alert-webhook'] : null,
    predictionLog: typeof values['prediction-log'] === 'string' ? values['prediction-log'] : null,
    predictionLogSample: rate,
  };
}

/** Environment for forked workers carrying the options. */
export function monitoringEnv(o: MonitoringOptions): Record<string, string> {
  const env: Record<string, string> = {};
  if (o.monitor === false) env.GROVE_NO_MONITOR = '1';
  if (o.alertWebhook) env.GROVE_ALERT_WEBHOOK = o.alertWebhook;
  if (o.predictionLog) env.GROVE_PREDICTION_LOG = o.predictionLog;
  if (o.predictionLogSample !== undefined && o.predictionLogSample !== 1)
    env.GROVE_PREDICTION_LOG_SAMPLE = String(o.predictionLogSample);
  return env;
}

export function monitoringFromEnv(env: NodeJS.ProcessEnv): MonitoringOptions {
  const rate = env.GROVE_PREDICTION_LOG_SAMPLE === undefined ? 1 : Number(env.GROVE_PREDICTION_LOG_SAMPLE);
  return {
    monitor: env.GROVE_NO_MONITOR !== '1',
    alertWebhook: env.GROVE_ALERT_WEBHOOK || null,
    predictionLog: env.GROVE_PREDICTION_LOG || null,
    predictionLogSample: rate >= 0 && rate <= 1 ? rate : 1,
  };
}
