// The runner scores a claimed chunk from the body it holds (its own upload), from the database when
// that body left memory after the claim named it, and counts a chunk whose row is gone as lost.
import { describe, expect, it } from 'vitest';
import { claimedChunk } from '../store/claimed-chunk.test-helper.js';
import type { ClaimedChunk, HeldChunks } from '../store/job-store.js';
import type { JobStoreApi } from '../store/store-api.js';
import { fakeBatch } from './fake-batch.test-helper.js';
import { HeldBodies } from './held-bodies.js';
import { JobRunner } from './job-runner.js';

const BODY = '1\n2\n3';

function claimed(seq: number, bodyHeld: boolean): ClaimedChunk {
  return claimedChunk({
    jobId: '5',
    seq,
    firstRow: 1 + 3 * seq,
    rowCount: 3,
    body: bodyHeld ? '' : BODY,
    bodyHeld,
    onError: 'fail',
  });
}

/** A store handing out `chunks` in order; records what the runner asked of it. */
function fakeStore(chunks: ClaimedChunk[], inDatabase: Map<number, string>) {
  const seen = { held: [] as (HeldChunks | null)[], bodyReads: [] as number[], commits: [] as string[] };
  const store = {
    kind: 'postgres',
    soleOwner: false,
    async claim(_o: string, _l: number, _s: unknown, held: HeldChunks | null) {
      seen.held.push(held ? { jobIds: [...held.jobIds], seqs: [...held.seqs] } : null);
      return chunks.shift() ?? null;
    },
    async chunkBody(_job: string, seq: number) {
      seen.bodyReads.push(seq);
      return inDatabase.get(seq) ?? null;
    },
    async commit(_o: string, _j: string, _s: number, copy: string) {
      seen.commits.push(copy);
      return { status: 'running' };
    },
    async renew() {
      return true;
    },
    async release() {},
    async sweep() {},
  };
  return { store: store as unknown as JobStoreApi, seen };
}

const doubling = fakeBatch((rows) => ({
  kind: 'ok',
  values: rows.map((r) => String(Number(r) * 2)),
  outputNames: ['p'],
})).batch;

describe('JobRunner and held bodies', () => {
  it('scores held bodies from memory, evicted ones from the database, and counts a gone chunk as lost', async () => {
    const held = new HeldBodies(1 << 20);
    held.put('5', 0, Buffer.from(BODY));
    // Chunk 1 was named as held when claimed, then left memory; chunk 2 is gone from the database.
    const { store, seen } = fakeStore(
      [claimed(0, true), claimed(1, true), claimed(2, true), claimed(3, false)],
      new Map([[1, BODY]]),
    );
    const outcomes: string[] = [];
    let settle: () => void;
    const finished = new Promise<void>((r) => {
      settle = r;
    });
    const runner = new JobRunner(
      {
        store,
        batch: doubling,
        held,
        servable: () => [['m', '1']],
        ended: () => {},
        log: () => {},
        counted: (c, outcome) => {
          outcomes[c.seq] = outcome;
          if (outcomes.filter(Boolean).length === 4) settle();
        },
      },
      { owner: 'g', concurrency: () => 1, leaseS: 30, pollMs: 60_000, sweepEvery: 1000, maxAttempts: 3 },
    );
    runner.start();
    await finished;
    await runner.stop();
    expect(outcomes).toEqual(['scored', 'scored', 'lost', 'scored']);
    // The first claim named the held chunk; once taken, it is held no more.
    expect(seen.held[0]).toEqual({ jobIds: ['5'], seqs: [0] });
    expect(seen.held[1]).toBeNull();
    expect(seen.bodyReads).toEqual([1, 2]);
    const rowsOf = (copy: string) =>
      copy
        .trimEnd()
        .split('\n')
        .map((l) => l.split('\t').slice(1, 4).join(' '));
    expect(rowsOf(seen.commits[0]!)).toEqual(['1 \\N {2}', '2 \\N {4}', '3 \\N {6}']);
    expect(rowsOf(seen.commits[1]!)).toEqual(['4 \\N {2}', '5 \\N {4}', '6 \\N {6}']);
    expect(seen.commits).toHaveLength(3);
  });
});
