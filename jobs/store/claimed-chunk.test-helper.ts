// A claimed chunk for the jobs tests, with plain defaults for what a test does not care about.
import type { ClaimedChunk } from './job-store.js';

export function claimedChunk(over: Partial<ClaimedChunk> = {}): ClaimedChunk {
  return {
    jobId: '9',
    seq: 0,
    firstRow: 1,
    rowCount: 0,
    body: '',
    keys: null,
    skip: null,
    attempts: 1,
    lastError: null,
    lastErrorCode: null,
    model: 'm',
    version: '1',
    format: 'csv',
    header: 'x',
    onError: 'skip',
    ...over,
  };
}
