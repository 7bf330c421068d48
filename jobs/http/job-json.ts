// A job as the API shows it (docs/jobs.md): GET /v1/jobs/{id}, the list, the 202 of a submission
// and the webhook notices.
import type { JobRecord } from '../store/job-store.js';

export function publicJson(j: JobRecord): Record<string, unknown> {
  return {
    id: j.id,
    model: j.model,
    version: j.version,
    status: j.status,
    rows_total: j.rowsTotal,
    rows_done: j.rowsDone,
    rows_failed: j.rowsFailed,
    created_at: j.createdAt,
    started_at: j.startedAt,
    finished_at: j.finishedAt,
    error: j.error,
    error_code: j.errorCode,
    format: j.format,
    key: j.keyColumn,
    on_error: j.onError,
    outputs: j.outputNames,
    results: `/v1/jobs/${j.id}/results`,
  };
}
