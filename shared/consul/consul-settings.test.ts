import { describe, expect, it } from 'vitest';
import { consulSettings } from './consul-settings.js';

describe('consul settings (as Consul’s own tools read them)', () => {
  it('takes the flag first, then CONSUL_HTTP_ADDR, then 127.0.0.1:8500', () => {
    const env = { CONSUL_HTTP_ADDR: 'consul.internal:8501' };
    expect(consulSettings('10.0.0.5:8500', env).url).toBe('http://10.0.0.5:8500');
    expect(consulSettings('', env).url).toBe('http://consul.internal:8501');
    expect(consulSettings(undefined, {}).url).toBe('http://127.0.0.1:8500');
  });

  it('reads a scheme (https: TLS), the ACL token and the CA file', () => {
    const s = consulSettings(undefined, {
      CONSUL_HTTP_ADDR: 'https://consul:8501/',
      CONSUL_HTTP_TOKEN: ' abc ',
      CONSUL_CACERT: '/etc/consul/ca.pem',
    });
    expect(s).toEqual({ url: 'https://consul:8501', token: 'abc', caFile: '/etc/consul/ca.pem' });
    expect(consulSettings('[::1]:8500', {}).url).toBe('http://[::1]:8500');
    expect(consulSettings('x:1', {}).token).toBeUndefined();
  });

  it('refuses an address it cannot use', () => {
    expect(() => consulSettings('http://consul:8500/v1', {})).toThrow(/must not have a path/);
    expect(() => consulSettings('http://', {})).toThrow(/GROVE_ERR_CONSUL|not HOST:PORT/);
  });
});
