// The worker's limits on a real process: a body over --max-body and a row count over --max-rows
// are 413s and the worker keeps serving; a body that does not arrive within --timeout is a 504.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  fixtureRows,
  getJson,
  makeRepository,
  postJson,
  removeRepository,
  startWorkerProcess,
} from './worker-harness.js';

const XGB = 'xgboost/xgb-binary-100x4';

describe('worker limits', () => {
  it('refuses a body over --max-body with 413 and a row count over --max-rows', async () => {
    const small = makeRepository({ xgb: { '1': XGB } });
    const p = await startWorkerProcess(small, ['--max-body', '2000', '--max-rows', '3']);
    try {
      const row = fixtureRows(XGB).rows[0]!;
      const big = await postJson(`${p.url}/v1/models/xgb:predict`, { instances: new Array(20).fill(row) });
      expect(big.status).toBe(413);
      expect(big.body.code).toBe('GROVE_ERR_BODY_TOO_LARGE');
      const many = await postJson(`${p.url}/v1/models/xgb:predict`, {
        instances: new Array(4).fill(row.map(() => 1)),
      });
      expect(many.status).toBe(413);
      expect(many.body.code).toBe('GROVE_ERR_TOO_MANY_ROWS');
      expect(
        (await postJson(`${p.url}/v1/models/xgb:predict`, { instances: [row.map(() => 1)] })).status,
      ).toBe(200);
    } finally {
      expect(await p.stop()).toBe(0);
      removeRepository(small);
    }
  });

  it('answers 504 when a request body does not arrive within --timeout', async () => {
    const small = makeRepository({ xgb: { '1': XGB } });
    const p = await startWorkerProcess(small, ['--timeout', '400']);
    try {
      const { port } = new URL(p.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = connect(Number(port), '127.0.0.1', () => {
          sock.write(
            'POST /v1/models/xgb:predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"inst',
          );
        });
        let got = '';
        sock.setEncoding('utf8');
        sock.on('data', (c: string) => (got += c));
        sock.on('close', () => resolve(got));
        sock.on('error', reject);
        setTimeout(() => sock.destroy(), 5000);
      });
      expect(answer).toMatch(/^HTTP\/1.1 504/);
      expect(answer).toContain('GROVE_ERR_TIMEOUT');
      expect((await getJson(`${p.url}/v2/health/live`)).status).toBe(200);
    } finally {
      expect(await p.stop()).toBe(0);
      removeRepository(small);
    }
  });
});
