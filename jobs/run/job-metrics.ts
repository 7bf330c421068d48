// The jobs' Prometheus metrics, on the gateway's /metrics: chunks by outcome and rows scored, per
// model version, counted by the gateway that did the work (so gateways sharing one PostgreSQL show
// their share).
import client, { type Registry } from 'prom-client';

export type ChunkOutcome = 'scored' | 'retried' | 'lost';

export class JobMetrics {
  private readonly chunks: client.Counter<'model' | 'version' | 'outcome'>;
  private readonly rows: client.Counter<'model' | 'version'>;

  constructor(registry: Registry) {
    this.chunks = new client.Counter({
      name: 'grove_job_chunks_total',
      help: 'Job chunks this gateway worked on, by model, version and outcome (scored, retried later, lost to another gateway)',
      labelNames: ['model', 'version', 'outcome'],
      registers: [registry],
    });
    this.rows = new client.Counter({
      name: 'grove_job_rows_total',
      help: 'Job rows this gateway scored and stored, by model and version',
      labelNames: ['model', 'version'],
      registers: [registry],
    });
  }

  chunk(model: string, version: string, outcome: ChunkOutcome, rows: number): void {
    this.chunks.inc({ model, version, outcome });
    if (outcome === 'scored') this.rows.inc({ model, version }, rows);
  }
}
