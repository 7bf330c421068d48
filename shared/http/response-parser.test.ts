import { describe, expect, it } from 'vitest';
import { ResponseParser, type UpstreamResponse } from './response-parser.js';

function parse(chunks: string[], maxBody = 1 << 20): { answers: UpstreamResponse[]; errors: string[] } {
  const answers: UpstreamResponse[] = [];
  const errors: string[] = [];
  const p = new ResponseParser(
    maxBody,
    (r) => answers.push(r),
    (m) => errors.push(m),
  );
  for (const c of chunks) p.feed(Buffer.from(c, 'latin1'));
  return { answers, errors };
}

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`;

describe('upstream answer framing', () => {
  it('frames pipelined answers in one read, and one answer over many reads', () => {
    const { answers } = parse([ok('{"a":1}') + ok('{"b":2}', 'X-Grove-Model-Version: 3\r\n')]);
    expect(answers.map((a) => a.body.toString())).toEqual(['{"a":1}', '{"b":2}']);
    expect(answers[1]!.headers).toEqual([
      'content-type',
      'application/json',
      'x-grove-model-version',
      '3',
      'content-length',
      '7',
    ]);
    const text = ok('{"predictions":[0.5]}');
    const bytes = [...text].map((c) => c);
    const split = parse(bytes);
    expect(split.answers).toHaveLength(1);
    expect(split.answers[0]!.body.toString()).toBe('{"predictions":[0.5]}');
  });

  it('decodes chunked answers, skips 100 Continue, sees connection: close', () => {
    const chunked =
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
      '3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n';
    const { answers, errors } = parse([chunked.slice(0, 40), chunked.slice(40, 90), chunked.slice(90)]);
    expect(errors).toEqual([]);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.body.toString()).toBe('abcde');
    expect(answers[0]!.close).toBe(true);
    expect(parse(['HTTP/1.1 204 No Content\r\n\r\n']).answers[0]!.body.length).toBe(0);
  });

  it('refuses what a worker never sends: no length, malformed heads, oversized bodies', () => {
    expect(parse(['HTTP/1.1 200 OK\r\n\r\nabc']).errors).toEqual(['answer without a length']);
    expect(parse(['HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n']).errors).toEqual(['malformed status line']);
    expect(parse(['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na']).errors).toHaveLength(
      1,
    );
    expect(parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n']).errors).toHaveLength(1);
    expect(parse([ok('x'.repeat(100))], 10).errors).toEqual(['answer body too large']);
    expect(parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n']).errors).toEqual([
      'malformed chunk size',
    ]);
    // After an error nothing more is delivered.
    const r = parse(['HTTP/1.1 200 OK\r\n\r\n', ok('{}')]);
    expect(r.answers).toHaveLength(0);
    expect(r.errors).toHaveLength(1);
  });
});
