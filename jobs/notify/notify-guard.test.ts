import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkNotifyUrl, isPrivateAddress, publicFetch } from './notify-guard.js';

describe('per-job notify URLs', () => {
  it('private, loopback, link-local and mapped addresses are private; public ones are not', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      'nonsense',
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      expect(isPrivateAddress(a), a).toBe(false);
  });

  it('must be http(s) and, unless allowed, not name a private host', () => {
    expect(checkNotifyUrl('https://hooks.example.com/x?y=1', false)).toBe('https://hooks.example.com/x?y=1');
    expect(() => checkNotifyUrl('file:///etc/passwd', false)).toThrow(/http/);
    expect(() => checkNotifyUrl('not a url', false)).toThrow(/absolute/);
    for (const u of [
      'http://127.0.0.1:8081/admin',
      'http://localhost/',
      'http://[::1]/',
      'http://169.254.169.254/latest',
    ])
      expect(() => checkNotifyUrl(u, false), u).toThrow(/private/);
    expect(checkNotifyUrl('http://127.0.0.1:9/x', true)).toBe('http://127.0.0.1:9/x');
  });

  it('the guarded fetch will not connect to a name that resolves to a private address', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      // `localhost` passes no literal-address check: the connect-time lookup is what refuses it.
      await expect(
        publicFetch(`http://localhost:${port}/`, { method: 'POST', body: '{}' }),
      ).rejects.toThrow();
      expect(hits).toBe(0);
      const plain = await fetch(`http://localhost:${port}/`, { method: 'POST', body: '{}' });
      expect(plain.status).toBe(200);
      expect(hits).toBe(1);
    } finally {
      server.close();
    }
  });
});
