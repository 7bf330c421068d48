// TLS on the gateway's listeners with certificates the test makes (openssl): the public listener
// serves predictions (the fast front) and every other route over HTTPS, and tells the worker
// proto=https; the admin listener with a client CA admits only clients with a certificate that CA
// signed, and still wants the bearer token.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../gateway/gateway.js';
import { type FakeWorker, startFakeWorker } from '../support/fake-gateway-upstream.js';

let dir: string;
let gw: Gateway;
let fake: FakeWorker;
const file = (n: string) => join(dir, n);

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makeCertificates(): void {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) =>
    ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
  key('ca.key');
  ossl(
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=grove test CA',
  );
  for (const [name, cn, ext] of [
    ['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'],
    ['client', 'grove admin client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    key(`${name}.key`);
    ossl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(file(`${name}.ext`), ext);
    ossl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'grove-tls-'));
  makeCertificates();
  fake = await startFakeWorker({ m: ['1'] });
  const tls = { cert: file('server.crt'), key: file('server.key') };
  gw = await startGateway({
    port: 0,
    adminPort: 0,
    adminToken: 'tls-token',
    healthIntervalMs: 60_000,
    tls,
    adminTls: { ...tls, clientCa: file('ca.crt') },
  });
  gw.workers.add('w', fake.url);
  await gw.health.runOnce();
});
afterAll(async () => {
  await gw?.close();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

function call(url: string, opts: RequestOptions, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: readFileSync(file('ca.crt')), agent: false, ...opts }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('TLS', () => {
  it('serves predictions and other routes over HTTPS, and tells the worker the request was https', async () => {
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const p = await call(
      `${gw.url}/v1/models/m/versions/1:predict`,
      { method: 'POST' },
      '{"instances":[[1,2]]}',
    );
    expect(p.status).toBe(200);
    expect(JSON.parse(p.text).predictions).toEqual([30]);
    expect(fake.received[0]!.headers.forwarded).toBe('for=127.0.0.1;proto=https');
    const models = await call(`${gw.url}/v2/models`, { method: 'GET' });
    expect(JSON.parse(models.text)).toEqual({ models: [{ name: 'm', versions: ['1'] }] });
    // A client that does not trust the certificate is refused by TLS itself.
    await expect(call(`${gw.url}/v2/models`, { method: 'GET', ca: [] as never })).rejects.toThrow();
  });

  it('admin over mutual TLS: no client certificate, no connection; with one, the token still counts', async () => {
    expect(gw.adminUrl).toMatch(/^https:/);
    await expect(
      call(`${gw.adminUrl}/admin/workers`, { headers: { authorization: 'Bearer tls-token' } }),
    ).rejects.toThrow();
    const client = { cert: readFileSync(file('client.crt')), key: readFileSync(file('client.key')) };
    const noToken = await call(`${gw.adminUrl}/admin/workers`, client);
    expect(noToken.status).toBe(401);
    const ok = await call(`${gw.adminUrl}/admin/workers`, {
      ...client,
      headers: { authorization: 'Bearer tls-token' },
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text).workers).toHaveLength(1);
  });
});
