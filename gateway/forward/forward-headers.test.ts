import { describe, expect, it } from 'vitest';
import type { UpstreamWorker } from '../upstream/upstream-worker.js';
import { answerHeaders, connectionNames, forwardedNode, upstreamHeaders } from './forward-headers.js';

describe('forwarded headers', () => {
  it('drops hop-by-hop fields and those Connection names; appends the client to X-Forwarded-For and Forwarded', () => {
    const out = upstreamHeaders(
      {
        host: 'gw',
        connection: 'keep-alive, X-Hop',
        'x-hop': '1',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        expect: '100-continue',
        'content-length': '5',
        'x-request-id': 'client',
        'x-grove-request-ids': 'forged=1',
        'x-user-id': 'u',
        'x-forwarded-for': '10.0.0.1',
        cookie: 'a=1; b=2',
      },
      'rid',
      '::1',
      true,
    );
    expect(out).toEqual([
      'x-user-id',
      'u',
      'cookie',
      'a=1; b=2',
      'x-request-id',
      'rid',
      'x-forwarded-for',
      '10.0.0.1, ::1',
      'forwarded',
      'for="[::1]";proto=https',
    ]);
    expect(connectionNames('close, Upgrade ,x-a')).toEqual(new Set(['upgrade', 'x-a']));
    expect(connectionNames(undefined)).toBeNull();
    expect(forwardedNode('192.0.2.1')).toBe('192.0.2.1');
    expect(forwardedNode('')).toBe('unknown');
  });

  it("passes a worker's end-to-end answer fields, replacing its id, date and framing with the gateway's, and names the worker without its address", () => {
    const worker = { url: 'http://10.0.0.9:1', name: 'w3' } as UpstreamWorker;
    const a = {
      worker,
      status: 200,
      body: Buffer.alloc(0),
      headers: [
        'content-type',
        'application/json',
        'x-request-id',
        'worker-side',
        'x-grove-model',
        'm',
        'x-grove-model-sha256',
        'abc',
        'date',
        'yesterday',
        'connection',
        'keep-alive',
        'content-length',
        '9',
        'x-custom',
        'kept',
      ],
    };
    expect(answerHeaders(a, 'rid', '2', true)).toEqual([
      'content-type',
      'application/json',
      'x-grove-model',
      'm',
      'x-grove-model-sha256',
      'abc',
      'x-custom',
      'kept',
      'x-grove-model-version',
      '2',
      'x-grove-worker',
      'w3',
      'x-request-id',
      'rid',
    ]);
    // A slice of a merged answer: only the model's identity travels with it.
    expect(answerHeaders(a, 'r2', '2', false)).toEqual([
      'content-type',
      'application/json',
      'x-grove-model',
      'm',
      'x-grove-model-sha256',
      'abc',
      'x-grove-model-version',
      '2',
      'x-grove-worker',
      'w3',
      'x-request-id',
      'r2',
    ]);
  });
});
