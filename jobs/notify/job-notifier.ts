// Tells webhooks that a job ended (docs/jobs.md): the operator's --job-webhook gets every job, a
// job's own `?notify=URL` gets that job. Delivery is the shared WebhookSender's (a bounded queue,
// retries with backoff); notices are best effort: one still queued when the gateway stops is lost.
import { WebhookSender } from '../../shared/webhook/webhook-sender.js';
import { publicJson } from '../http/job-json.js';
import type { JobRecord } from '../store/job-store.js';
import { publicFetch } from './notify-guard.js';

export interface NotifierOptions {
  webhookUrl?: string;
  allowPrivate: boolean;
  log: (msg: string) => void;
}

export class JobNotifier {
  private readonly operator: WebhookSender | null;
  /** Senders of per-job URLs still delivering. */
  private readonly perJob = new Set<WebhookSender>();

  constructor(private readonly o: NotifierOptions) {
    this.operator = o.webhookUrl ? this.sender(o.webhookUrl, true) : null;
  }

  ended(job: JobRecord): void {
    const body = { event: `job.${job.status}`, job: publicJson(job) };
    this.operator?.send(body);
    if (job.notifyUrl) {
      const s = this.sender(job.notifyUrl, this.o.allowPrivate);
      this.perJob.add(s);
      s.send(body);
      void s.drained().then(() => this.perJob.delete(s));
    }
  }

  private sender(url: string, trusted: boolean): WebhookSender {
    return new WebhookSender({
      url,
      fetchImpl: trusted ? fetch : publicFetch,
      onDrop: (reason) => this.o.log(`job webhook ${url}: a notice was dropped (${reason})`),
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.operator, ...this.perJob].map((s) => s?.close()));
  }
}
