// The small query interface the job store is written against, so one set of SQL statements runs on
// both databases grove keeps jobs in: PGlite (Postgres compiled to WebAssembly, embedded, in
// --state-dir) and a PostgreSQL server (--jobs-db postgres://...). Parameters are $1.. placeholders;
// bulk rows go through COPY in PostgreSQL's text format (copy-text.ts escapes them).

export interface SqlResult<R> {
  rows: R[];
  /** Rows a DELETE / UPDATE / INSERT touched (or a SELECT returned). */
  rowCount: number;
}

export interface SqlRunner {
  query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<SqlResult<R>>;
  /** `COPY table (columns) FROM STDIN` with `text` in COPY's text format (one line per row). */
  copyIn(table: string, columns: readonly string[], text: string): Promise<void>;
  /**
   * PGlite only: `query` with `blob` readable in the statement as `pg_read_file('/dev/blob')`. A
   * megabyte-sized text passed so skips PGlite's parameter encoding (a JavaScript loop over every
   * character to size it, then a copy into a growing buffer): about 40% of such an insert.
   */
  queryBlob?(sql: string, params: readonly unknown[], blob: Uint8Array | string): Promise<SqlResult<object>>;
}

export interface SqlDb extends SqlRunner {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export function copyStatement(table: string, columns: readonly string[]): string {
  return `COPY ${table} (${columns.join(', ')}) FROM STDIN`;
}
