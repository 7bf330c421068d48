// SqlDb over a PostgreSQL server through `pg` (node-postgres): a pool of connections, a
// transaction on one checked-out connection, and COPY FROM STDIN (pg-copy-streams) for bulk rows,
// PostgreSQL's fastest way in. Every statement with parameters is prepared once per connection (a
// named statement, statementName): the store runs a few fixed statements over and over, and parsing and planning
// them again each time cost more than running them (a key lookup: about 0.5 ms planned each time,
// 0.2 ms prepared; docs/jobs.md#performance).
import { once } from 'node:events';
import pg from 'pg';
import pgCopy from 'pg-copy-streams';
import { copyStatement, type SqlDb, type SqlResult, type SqlRunner } from './sql-db.js';

type Client = pg.Pool | pg.PoolClient;

/** The store's SQL is a fixed set of texts (a few vary by filter): more than this is a bug, not a cache. */
const MAX_PREPARED = 256;
const names = new Map<string, string>();
let generation = 0;

/** The statement's name on every connection (the same text always gets the same name); null past MAX_PREPARED. */
export function statementName(sql: string): string | null {
  let n = names.get(sql);
  if (n === undefined) {
    if (names.size >= MAX_PREPARED) return null;
    n = `grove_${generation}_${names.size}`;
    names.set(sql, n);
  }
  return n;
}

/**
 * A prepared statement whose result columns changed under it (another gateway applied a migration
 * that altered a table this one's `SELECT *` reads) fails with this on every connection that
 * prepared it: then every statement gets a new name, so each connection prepares it again against
 * the table as it is now (a transaction that met it fails once, and is retried as any other).
 */
function resultTypeChanged(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === '0A000' && typeof e.message === 'string' && e.message.includes('result type');
}

function renameAll(): void {
  generation++;
  names.clear();
}

function runner(
  c: Client,
  inTransaction: boolean,
  onCopy: () => Promise<pg.PoolClient>,
  done?: (cl: pg.PoolClient) => void,
): SqlRunner {
  return {
    async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<R>> {
      const values = params as unknown[];
      // Statements without parameters are one-offs (migrations, sweeps): not worth a name.
      const name = values.length > 0 ? statementName(sql) : null;
      let r: pg.QueryResult;
      try {
        r = await c.query(name === null ? { text: sql, values } : { name, text: sql, values });
      } catch (err) {
        if (name === null || !resultTypeChanged(err)) throw err;
        renameAll();
        // In a transaction the error has aborted it: the caller's retry runs under the new name.
        if (!inTransaction) r = await c.query({ name: statementName(sql) ?? undefined, text: sql, values });
        else throw err;
      }
      return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
    },
    async copyIn(table: string, columns: readonly string[], text: string): Promise<void> {
      if (text.length === 0) return;
      const client = await onCopy();
      try {
        const stream = client.query(pgCopy.from(copyStatement(table, columns)));
        const finished = new Promise<void>((resolve, reject) => {
          stream.once('finish', resolve);
          stream.once('error', reject);
        });
        if (!stream.write(text)) await once(stream, 'drain');
        stream.end();
        await finished;
      } finally {
        done?.(client);
      }
    },
  };
}

export async function openPgDb(url: string, maxConnections = 10): Promise<SqlDb> {
  const pool = new pg.Pool({ connectionString: url, max: maxConnections, connectionTimeoutMillis: 10_000 });
  // An idle client whose server went away must not take the process down.
  pool.on('error', () => {});
  // Fail now (bad URL, server down) rather than at the first job.
  const probe = await pool.connect();
  probe.release();
  const base = runner(
    pool,
    false,
    () => pool.connect(),
    (cl) => cl.release(),
  );
  return {
    kind: 'postgres',
    query: base.query,
    copyIn: base.copyIn,
    async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const out = await fn(runner(client, true, async () => client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    close: () => pool.end(),
  };
}
