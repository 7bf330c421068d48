// `grove worker --consul`: registers with the live versions in the service meta, re-registers when
// versions change, deregisters on SIGTERM. A tiny fake Consul agent records the calls.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeVersionsMeta } from '../../shared/consul/worker-registration.js';
import {
  addVersion,
  makeRepository,
  removeRepository,
  startWorkerProcess,
  waitFor,
} from './worker-harness.js';

interface Call {
  method: string;
  path: string;
  body: any;
}

let server: http.Server | null = null;
let repo = '';

afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
  if (repo) removeRepository(repo);
});

describe('worker consul registration', () => {
  it('registers, updates the versions meta, and deregisters on SIGTERM', async () => {
    const calls: Call[] = [];
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        calls.push({ method: req.method!, path: req.url!, body: body ? JSON.parse(body) : null });
        res.end('');
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const consul = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    repo = makeRepository({ churn: { '1': 'xgboost/xgb-binary-100x4' } });
    const w = await startWorkerProcess(repo, ['--consul', consul, '--advertise-host', '127.0.0.1']);
    const port = Number(new URL(w.url).port);
    const first = await waitFor(async () => calls.find((c) => c.path === '/v1/agent/service/register'));
    expect(first.body.Port).toBe(port);
    expect(first.body.Address).toBe('127.0.0.1');
    expect(decodeVersionsMeta(first.body.Meta)).toEqual({ churn: ['1'] });
    addVersion(repo, 'churn', '2', 'lightgbm/lgb-binary-100x4');
    await waitFor(async () =>
      calls.some(
        (c) => c.path === '/v1/agent/service/register' && decodeVersionsMeta(c.body.Meta).churn?.length === 2,
      ),
    );
    expect(await w.stop('SIGTERM')).toBe(0);
    const last = calls[calls.length - 1]!;
    expect(last.path).toBe(`/v1/agent/service/deregister/${encodeURIComponent(first.body.ID)}`);
  });
});
