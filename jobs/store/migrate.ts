// Applies the versioned migrations in jobs/migrations/NNN-name.sql, in order, each in its own
// transaction, and records them in grove_jobs_migrations. An advisory lock makes gateways that
// start together on one PostgreSQL apply each migration once.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../../shared/runtime-path.js';
import type { SqlDb } from './sql-db.js';

export const MIGRATIONS_DIR = join(projectRoot, 'jobs', 'migrations');
/** Any constant: the advisory lock key the migrating gateways agree on. */
const LOCK_KEY = 0x67726f76;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const out: Migration[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const m = /^(\d{3})-([a-z0-9-]+)\.sql$/.exec(file);
    if (!m) continue;
    out.push({ version: Number(m[1]), name: m[2]!, sql: await readFile(join(dir, file), 'utf8') });
  }
  return out;
}

/** Applies what is missing; returns the versions applied now. */
export async function migrate(db: SqlDb, migrations: Migration[]): Promise<number[]> {
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      await tx.query(
        `CREATE TABLE IF NOT EXISTS grove_jobs_migrations (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const r = await tx.query('SELECT 1 FROM grove_jobs_migrations WHERE version = $1', [m.version]);
      if (r.rows.length > 0) return false;
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query('INSERT INTO grove_jobs_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

/** The statements of a migration file: split at `;` ending a line; `--` comments dropped. */
export function splitStatements(sql: string): string[] {
  const lines = sql.split('\n').filter((l) => !l.trimStart().startsWith('--'));
  return lines
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
