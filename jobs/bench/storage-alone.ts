// The benchmark's peer: the storage alone, bulk-loading the same keys and predictions into the same
// database and table (grove_job_results, same indexes) by its fastest path: COPY FROM STDIN on a
// server, COPY from a Blob in PGlite, in batches of 100,000 rows.
import { copyValue } from '../store/copy-text.js';
import { RESULT_COLUMNS } from '../store/job-store.js';
import { loadMigrations, migrate } from '../store/migrate.js';
import type { SqlDb } from '../store/sql-db.js';

export async function storageAlone(db: SqlDb, predictions: readonly string[]): Promise<number> {
  await migrate(db, await loadMigrations());
  const batch = 100_000;
  const t0 = performance.now();
  for (let i = 0; i < predictions.length; i += batch) {
    let text = '';
    const end = Math.min(predictions.length, i + batch);
    for (let r = i; r < end; r++)
      text += `1\t${r + 1}\t${copyValue(`k${r + 1}`)}\t{${predictions[r]}}\t\\N\t\\N\n`;
    await db.copyIn('grove_job_results', RESULT_COLUMNS, text);
  }
  return predictions.length / ((performance.now() - t0) / 1000);
}
