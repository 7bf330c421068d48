// SqlDb over a PostgreSQL server through `pg` (node-postgres): a pool of connections, a
// transaction on one checked-out connection, and COPY FROM STDIN (pg-copy-streams) for bulk rows,
// PostgreSQL's fastest way in.
import { once } from 'node:events';
import pg from 'pg';
import pgCopy from 'pg-copy-streams';
import { copyStatement, type SqlDb, type SqlResult, type SqlRunner } from './sql-db.js';

type Client = pg.Pool | pg.PoolClient;

function runner(
  c: Client,
  onCopy: () => Promise<pg.PoolClient>,
  done?: (cl: pg.PoolClient) => void,
): SqlRunner {
  return {
    async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<R>> {
      const r = await c.query(sql, params as unknown[]);
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
        const out = await fn(runner(client, async () => client));
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
