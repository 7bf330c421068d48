// Key lookups ("serve via database", docs/jobs.md#performance): the prediction for a key from the
// latest succeeded job of its model that scored it. Lookups that arrive while earlier ones are at
// the database are sent together, one statement for all the keys of a model (the way the gateway
// coalesces predictions for one model version): a lookup alone still goes at once in the one-key
// statement, but under concurrency the database runs one statement, and the gateway makes one
// round trip, for several keys instead of one each.
import { iso, type Row, type StoredPrediction } from './job-records.js';
import type { SqlRunner } from './sql-db.js';

const ONE = `SELECT j.id, j.version, j.output_names, j.finished_at, r.outputs
       FROM grove_job_results r JOIN grove_jobs j ON j.id = r.job_id
       WHERE r.key = $2 AND j.model = $1 AND j.status = 'succeeded' AND r.outputs IS NOT NULL
       ORDER BY j.finished_at DESC, j.id DESC, r.row_no DESC LIMIT 1`;

// The same rule for each key of an array (its position kept, so repeated keys each get an answer):
// the lateral subquery uses the (key, job_id) index once per key, as ONE does.
const MANY = `SELECT k.i::int AS i, x.id, x.version, x.output_names, x.finished_at, x.outputs
       FROM unnest($2::text[]) WITH ORDINALITY AS k(key, i)
       CROSS JOIN LATERAL (
         SELECT j.id, j.version, j.output_names, j.finished_at, r.outputs
         FROM grove_job_results r JOIN grove_jobs j ON j.id = r.job_id
         WHERE r.key = k.key AND j.model = $1 AND j.status = 'succeeded' AND r.outputs IS NOT NULL
         ORDER BY j.finished_at DESC, j.id DESC, r.row_no DESC LIMIT 1) x`;

function toPrediction(x: Row): StoredPrediction {
  return {
    jobId: String(x.id),
    version: x.version as string,
    outputNames: (x.output_names as string[] | null) ?? [],
    outputs: (x.outputs as unknown[]).map(Number),
    scoredAt: iso(x.finished_at)!,
  };
}

/** The stored prediction of each key (null where none), in the order of `keys`. */
export async function lookupKeys(
  db: SqlRunner,
  model: string,
  keys: readonly string[],
): Promise<(StoredPrediction | null)[]> {
  if (keys.length === 1) {
    const x = (await db.query<Row>(ONE, [model, keys[0]])).rows[0];
    return [x ? toPrediction(x) : null];
  }
  const out: (StoredPrediction | null)[] = new Array(keys.length).fill(null);
  for (const x of (await db.query<Row>(MANY, [model, keys])).rows) out[(x.i as number) - 1] = toPrediction(x);
  return out;
}

interface Waiter {
  key: string;
  resolve: (p: StoredPrediction | null) => void;
  reject: (err: unknown) => void;
}

/**
 * At most `maxInFlight` statements at the database at once; lookups arriving meanwhile wait, per
 * model, and the next free turn takes up to `maxKeys` of one model's in one statement. Two in
 * flight keep a server's two sides (the statement running, the next one's keys gathering) busy
 * without turning every concurrent lookup into a backend of its own.
 */
export class KeyLookups {
  private inFlight = 0;
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(
    private readonly run: (model: string, keys: readonly string[]) => Promise<(StoredPrediction | null)[]>,
    private readonly maxInFlight = 2,
    private readonly maxKeys = 256,
  ) {}

  lookup(model: string, key: string): Promise<StoredPrediction | null> {
    return new Promise((resolve, reject) => {
      const q = this.waiting.get(model);
      if (q) q.push({ key, resolve, reject });
      else this.waiting.set(model, [{ key, resolve, reject }]);
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.size > 0) {
      // Models take turns: a Map iterates in insertion order, and the model served goes to the end
      // (with the keys it still has past maxKeys) or leaves, its next key queueing it at the end.
      const [model, q] = this.waiting.entries().next().value as [string, Waiter[]];
      this.waiting.delete(model);
      let batch = q;
      if (q.length > this.maxKeys) {
        batch = q.splice(0, this.maxKeys);
        this.waiting.set(model, q);
      }
      this.inFlight++;
      this.run(
        model,
        batch.map((w) => w.key),
      ).then(
        (found) => {
          for (let i = 0; i < batch.length; i++) batch[i]!.resolve(found[i] ?? null);
          this.done();
        },
        (err: unknown) => {
          for (const w of batch) w.reject(err);
          this.done();
        },
      );
    }
  }

  private done(): void {
    this.inFlight--;
    this.pump();
  }
}
