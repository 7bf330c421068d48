import { describe, expect, it } from 'vitest';
import { GroveError, MethodNotAllowedError } from '../errors/grove-error.js';
import { RouteTable } from './router.js';

const h = (name: string) => () => name;

describe('RouteTable', () => {
  const r = new RouteTable<() => string>();
  r.add('GET', '/v2/models/{model}', h('meta'));
  r.add('GET', '/v2/models/{model}/versions/{version}', h('vmeta'));
  r.add('POST', '/v2/models/{model}/infer', h('infer'));
  r.add('POST', '/v1/models/{model}:predict', h('predict'));
  r.add('POST', '/v1/models/{model}/versions/{version}:predict', h('vpredict'));
  r.add('GET', '/v2', h('server'));

  it('matches params, verb suffixes and percent-encoding', () => {
    const m = r.find('POST', '/v1/models/my%20model:predict');
    expect(m.params.model).toBe('my model');
    expect(m.value()).toBe('predict');
    const v = r.find('POST', '/v1/models/m/versions/3:predict');
    expect(v.params).toEqual({ model: 'm', version: '3' });
    expect(r.find('GET', '/v2/').value()).toBe('server');
    expect(r.find('HEAD', '/v2/models/x').value()).toBe('meta');
  });

  it('answers 405 with the allowed methods for a known path', () => {
    try {
      r.find('DELETE', '/v2/models/x/infer');
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(MethodNotAllowedError);
      expect((e as MethodNotAllowedError).allow).toEqual(['POST']);
    }
  });

  it('answers 404 for unknown paths, including a bare param holding a verb', () => {
    for (const p of [
      '/v3',
      '/v1/models/m',
      '/v1/models/m:explain',
      '/v2/models/m/x/y/z/w',
      '/v1/models/:predict',
    ]) {
      expect(() => r.find('POST', p), p).toThrow(GroveError);
      try {
        r.find('POST', p);
      } catch (e) {
        expect((e as GroveError).statusCode, p).toBe(404);
      }
    }
  });

  it('refuses malformed percent-encoding with a 400', () => {
    try {
      r.find('GET', '/v2/models/%E0%A4%A');
      throw new Error('no error');
    } catch (e) {
      expect((e as GroveError).statusCode).toBe(400);
    }
  });
});
