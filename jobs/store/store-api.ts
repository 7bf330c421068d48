// What the rest of jobs/ calls on the store: JobStore's methods, whether the store runs in this
// thread (PostgreSQL: the work happens in the server) or in a thread of its own (PGlite, whose
// Postgres runs in WebAssembly and would otherwise stall the gateway's event loop while it works).
import type { JobStore } from './job-store.js';

export const STORE_METHODS = [
  'createJob',
  'appendChunk',
  'renewUpload',
  'seal',
  'abandon',
  'claim',
  'chunkBody',
  'renew',
  'release',
  'commit',
  'fail',
  'cancel',
  'purge',
  'sweep',
  'get',
  'list',
  'resultsPage',
  'lookup',
] as const;

export type StoreMethod = (typeof STORE_METHODS)[number];

export type JobStoreApi = Pick<JobStore, StoreMethod> & {
  readonly kind: 'pglite' | 'postgres';
  /** No other process can use this database (PGlite): claims left at start-up are stale. */
  readonly soleOwner: boolean;
  close(): Promise<void>;
};

export interface StoreRequest {
  id: number;
  method: StoreMethod;
  args: unknown[];
}

export type StoreResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string; code: string | null };
