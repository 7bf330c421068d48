import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type TestDatabase } from '../../test/support/pg-database.js';
import { postgresAvailable, type Service, skipReason, usePostgres } from '../../test/support/services.js';
import { openPgDb, statementName } from './pg-db.js';
import type { SqlDb } from './sql-db.js';

const hasPg = postgresAvailable();
let pgService: Service | null = null;

describe('statementName', () => {
  it('gives one text one name, and different texts different names', () => {
    const a = statementName('SELECT $1::int AS a -- statementName test a');
    const b = statementName('SELECT $1::int AS b -- statementName test b');
    expect(a).not.toBeNull();
    expect(statementName('SELECT $1::int AS a -- statementName test a')).toBe(a);
    expect(b).not.toBe(a);
  });
});

describe.skipIf(!hasPg)(
  hasPg ? 'pg-db prepared statements on PostgreSQL' : skipReason('PostgreSQL', 'postgresql'),
  () => {
    let tdb: TestDatabase;
    let db: SqlDb;

    beforeAll(async () => {
      pgService = await usePostgres();
      tdb = await createDatabase(pgService!.url, 'grove_pgdb');
      // One connection, so every statement below meets the statements prepared before it.
      db = await openPgDb(tdb.url, 1);
      await db.exec(
        'CREATE TABLE t (id int PRIMARY KEY, a text); INSERT INTO t VALUES (1, $$x$$), (2, $$y$$);',
      );
    });
    afterAll(async () => {
      await db?.close();
      await tdb?.drop();
      await pgService?.stop();
    });

    it('prepares a statement with parameters once and runs it again by name', async () => {
      const sql = 'SELECT a FROM t WHERE id = $1';
      expect((await db.query<{ a: string }>(sql, [1])).rows).toEqual([{ a: 'x' }]);
      expect((await db.query<{ a: string }>(sql, [2])).rows).toEqual([{ a: 'y' }]);
      const p = await db.query<{ name: string; statement: string }>(
        'SELECT name, statement FROM pg_prepared_statements WHERE statement = $1',
        [sql],
      );
      expect(p.rows).toEqual([{ name: statementName(sql), statement: sql }]);
    });

    it('answers with the new columns after a table changed under a prepared SELECT *', async () => {
      const sql = 'SELECT * FROM t WHERE id = $1';
      expect((await db.query(sql, [1])).rows).toEqual([{ id: 1, a: 'x' }]);
      // Another gateway's migration adds a column: the prepared plan's result type no longer holds.
      await db.exec('ALTER TABLE t ADD COLUMN b int NOT NULL DEFAULT 7');
      expect((await db.query(sql, [1])).rows).toEqual([{ id: 1, a: 'x', b: 7 }]);
      // In a transaction the first try fails the transaction; the retry runs on the new name.
      await db.exec('ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 8');
      await expect(db.transaction((tx) => tx.query(sql, [2]))).rejects.toThrow(/result type/);
      const again = await db.transaction((tx) => tx.query(sql, [2]));
      expect(again.rows).toEqual([{ id: 2, a: 'y', b: 7, c: 8 }]);
    });
  },
);
