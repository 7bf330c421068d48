import { describe, expect, it } from 'vitest';
import { HAND_OVER, hasToken, MORE, parseRequestHead } from './request-head.js';

const parse = (s: string) => parseRequestHead(Buffer.from(s, 'latin1'), 16 * 1024);

describe('strict request heads', () => {
  it('parses a plain POST: path, query, lower-case headers, body offset, close and expectations', () => {
    const text =
      'POST /v1/models/m:predict?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nX-A: 1\r\nx-a: 2\r\nConnection: Close\r\nExpect: 100-Continue\r\n\r\n{}';
    const h = parse(text);
    expect(h).toMatchObject({
      path: '/v1/models/m:predict',
      query: '?x=1',
      contentLength: 2,
      close: true,
      expectContinue: true,
      headers: { host: 'a', 'content-length': '2', 'x-a': '1, 2' },
    });
    expect(typeof h === 'object' && h.bodyStart).toBe(text.length - 2);
  });

  it('waits for a head still arriving, and hands anything else to node:http at once', () => {
    expect(parse('POST /v2/models/m/infer HTTP/1.1\r\nHost: a\r\n')).toBe(MORE);
    expect(parse('POS')).toBe(MORE);
    expect(parse('GET / HTTP/1.1\r\n')).toBe(HAND_OVER);
    for (const bad of [
      'POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n',
      'POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost: a\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: other\r\n\r\n',
      'POST /a HTTP/1.0\r\nHost: a\r\nContent-Length: 2\r\n\r\n',
      'POST a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost : a\r\nContent-Length: 2\r\n\r\n',
      'POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\t\r\n\r\n',
    ])
      expect(parse(bad), JSON.stringify(bad)).toBe(HAND_OVER);
  });

  it('takes a bodiless GET only when asked to, and hands a GET with a body or an expectation to node:http', () => {
    const get = (s: string) => parseRequestHead(Buffer.from(s, 'latin1'), 16 * 1024, true);
    const h = get('GET /v2/models/m/versions/1?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n');
    expect(h).toMatchObject({
      method: 'GET',
      path: '/v2/models/m/versions/1',
      query: '?x=1',
      contentLength: 0,
      headers: { host: 'a', accept: '*/*' },
    });
    expect(get('GE')).toBe(MORE);
    expect(get('GET /a HTTP/1.1\r\nHost: a\r\n')).toBe(MORE);
    expect(get('POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n')).toMatchObject({ method: 'POST' });
    for (const bad of [
      'GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
      'GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
      'GET /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n',
      'GET /a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n',
      'GET /a HTTP/1.1\r\n\r\n',
      'GET  /a HTTP/1.1\r\nHost: a\r\n\r\n',
      'GETS /a HTTP/1.1\r\nHost: a\r\n\r\n',
      'GET /a HTTP/1.0\r\nHost: a\r\n\r\n',
    ])
      expect(get(bad), JSON.stringify(bad)).toBe(HAND_OVER);
    expect(parse('GET /a HTTP/1.1\r\nHost: a\r\n\r\n')).toBe(HAND_OVER);
  });

  it('finds comma-separated tokens', () => {
    expect(hasToken('keep-alive, Close', 'close')).toBe(true);
    expect(hasToken('closed', 'close')).toBe(false);
    expect(hasToken('x-close, close-y', 'close')).toBe(false);
    expect(hasToken(' close ', 'close')).toBe(true);
  });
});
