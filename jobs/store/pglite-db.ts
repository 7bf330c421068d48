// SqlDb over PGlite with its data directory on disk. PGlite runs Postgres in single-user mode in
// this thread, one statement at a time; its fastest bulk path is COPY reading a Blob
// (`COPY ... FROM '/dev/blob'`), which skips the per-row protocol round trips of INSERT.
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { SqlDb, SqlResult, SqlRunner } from './sql-db.js';

type Queryable = Pick<PGlite, 'query'> | Transaction;

function runner(q: Queryable): SqlRunner {
  return {
    async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<R>> {
      const r = await q.query<R>(sql, params as unknown[]);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async queryBlob(sql: string, params: readonly unknown[], blob: Uint8Array | string) {
      const r = await q.query(sql, params as unknown[], { blob: new Blob([blob]) });
      return { rows: r.rows as object[], rowCount: r.affectedRows ?? r.rows.length };
    },
    async copyIn(table: string, columns: readonly string[], text: string): Promise<void> {
      if (text.length === 0) return;
      await q.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob'`, [], {
        blob: new Blob([text]),
      });
    },
  };
}

export async function openPgliteDb(dataDir: string): Promise<SqlDb> {
  const pg = await PGlite.create({ dataDir });
  const base = runner(pg);
  return {
    kind: 'pglite',
    query: base.query,
    copyIn: base.copyIn,
    queryBlob: base.queryBlob,
    transaction: (fn) => pg.transaction((tx) => fn(runner(tx))),
    async exec(sql: string) {
      await pg.exec(sql);
    },
    close: () => pg.close(),
  };
}
