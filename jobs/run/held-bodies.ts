// The bodies of chunks this gateway uploaded, kept in memory (up to a byte budget) so that when it
// claims one of them it scores its own copy instead of reading megabytes back from the database
// (docs/jobs.md, Performance). The database stays the record: a claim names the chunks held here
// (JobStore.claim `held`), gets no body for those, and a body that is no longer here (the budget
// evicted it meanwhile) is read from the database as any other. Oldest first out, and nothing kept
// longer than `maxAgeMs`: a chunk another gateway claimed, or of a job that ended elsewhere, does
// not stay in memory; a job that ended here drops its bodies at once.
import type { HeldChunks } from '../store/job-store.js';

interface Held {
  body: Uint8Array | string;
  at: number;
}

export class HeldBodies {
  private readonly map = new Map<string, Held>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxAgeMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps a stored chunk's body (exactly the bytes or text the database was given). */
  put(jobId: string, seq: number, body: Uint8Array | string): void {
    const size = sizeOf(body);
    if (size > this.maxBytes) return;
    const key = `${jobId}:${seq}`;
    this.remove(key);
    for (const k of this.map.keys()) {
      if (this.bytes + size <= this.maxBytes) break;
      this.remove(k);
    }
    this.map.set(key, { body, at: this.now() });
    this.bytes += size;
  }

  /** Lets go of bodies kept longer than the age limit (oldest first, so it stops at the first young one). */
  expire(): void {
    const oldest = this.now() - this.maxAgeMs;
    for (const [k, h] of this.map) {
      if (h.at > oldest) break;
      this.remove(k);
    }
  }

  /** Lets go of one job's bodies (it ended). */
  dropJob(jobId: string): void {
    const prefix = `${jobId}:`;
    for (const k of this.map.keys()) if (k.startsWith(prefix)) this.remove(k);
  }

  /**
   * The body as it was given to the database (bytes, or text when the upload was not UTF-8),
   * removed from here; null when not held.
   */
  take(jobId: string, seq: number): Uint8Array | string | null {
    const key = `${jobId}:${seq}`;
    const h = this.map.get(key);
    if (h === undefined) return null;
    this.remove(key);
    return h.body;
  }

  /** What a claim should not read back; null when nothing is held. */
  held(): HeldChunks | null {
    if (this.map.size === 0) return null;
    const jobIds: string[] = [];
    const seqs: number[] = [];
    for (const k of this.map.keys()) {
      const at = k.indexOf(':');
      jobIds.push(k.slice(0, at));
      seqs.push(Number(k.slice(at + 1)));
    }
    return { jobIds, seqs };
  }

  get size(): number {
    return this.map.size;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  private remove(key: string): void {
    const h = this.map.get(key);
    if (h === undefined) return;
    this.map.delete(key);
    this.bytes -= sizeOf(h.body);
  }
}

function sizeOf(b: Uint8Array | string): number {
  return typeof b === 'string' ? b.length * 2 : b.byteLength;
}
