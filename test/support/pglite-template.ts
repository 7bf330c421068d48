// PGlite's first open of a directory runs initdb (seconds of WebAssembly, far more on a busy
// machine). Tests that need a fresh jobs database copy one initialized template instead: made once
// per machine under the temp dir (atomically, so test files starting together agree), then copied.
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

const VERSION = '0.5';
const TEMPLATE = join(tmpdir(), `grove-pglite-template-${VERSION}`);

async function template(): Promise<string> {
  if (existsSync(join(TEMPLATE, 'PG_VERSION'))) return TEMPLATE;
  const work = mkdtempSync(join(tmpdir(), 'grove-pglite-init-'));
  const db = await PGlite.create({ dataDir: join(work, 'data') });
  await db.close();
  try {
    renameSync(join(work, 'data'), TEMPLATE);
  } catch {
    // another test file made it first
  }
  rmSync(work, { recursive: true, force: true });
  return TEMPLATE;
}

/** A PGlite data directory at `dir` (made from the template). */
export async function freshPgliteDir(dir: string): Promise<string> {
  mkdirSync(join(dir, '..'), { recursive: true });
  cpSync(await template(), dir, { recursive: true });
  return dir;
}

/** A --state-dir whose jobs database is already initialized. */
export async function freshStateDir(parent: string): Promise<string> {
  const state = join(parent, 'state');
  await freshPgliteDir(join(state, 'jobs-db'));
  return state;
}
