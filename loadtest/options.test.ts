import { describe, expect, it } from 'vitest';
import { BadInputError } from '../shared/errors/grove-error.js';
import { inferPath, isLoopback, MAX_DURATION_S, parseLoadtestArgs } from './options.js';

describe('parseLoadtestArgs', () => {
  it('takes the default URL from env GROVE_URL, as grove jobs does (docs/cli.md)', () => {
    const saved = process.env.GROVE_URL;
    process.env.GROVE_URL = 'http://127.0.0.1:9';
    try {
      expect(parseLoadtestArgs([])!.url).toBe('http://127.0.0.1:9');
      expect(parseLoadtestArgs(['--url', 'http://127.0.0.1:7'])!.url).toBe('http://127.0.0.1:7');
    } finally {
      if (saved === undefined) delete process.env.GROVE_URL;
      else process.env.GROVE_URL = saved;
    }
  });
  it('applies loopback defaults', () => {
    const o = parseLoadtestArgs([])!;
    expect(o.url).toBe('http://127.0.0.1:8080');
    expect(o).toMatchObject({
      model: null,
      version: null,
      rowsPerRequest: 1,
      connections: 10,
      durationS: 10,
    });
    expect(o).toMatchObject({
      rate: null,
      stickyUsers: 0,
      protocol: 'v2',
      input: null,
      json: null,
      quiet: false,
      maxErrorRate: 0.01,
    });
  });

  it('reads every option', () => {
    const o = parseLoadtestArgs([
      '--url=http://localhost:9000/ignored/path',
      '--model',
      'churn',
      '--version',
      '2',
      '--rows-per-request',
      '100',
      '--connections',
      '4',
      '--duration',
      '2.5',
      '--rate',
      '500',
      '--sticky-users',
      '50',
      '--protocol',
      'v1',
      '--input',
      'rows.csv',
      '--seed',
      '7',
      '--timeout',
      '3',
      '--json',
      'out.json',
      '--quiet',
      '--max-error-rate',
      '0.05',
    ])!;
    expect(o).toEqual({
      url: 'http://localhost:9000',
      model: 'churn',
      version: '2',
      rowsPerRequest: 100,
      connections: 4,
      durationS: 2.5,
      rate: 500,
      stickyUsers: 50,
      protocol: 'v1',
      input: 'rows.csv',
      seed: 7,
      timeoutS: 3,
      json: 'out.json',
      quiet: true,
      maxErrorRate: 0.05,
    });
    expect(() => parseLoadtestArgs(['--max-error-rate', '5'])).toThrow(/fraction from 0 to 1/);
  });

  it('takes --json without a file as stdout', () => {
    expect(parseLoadtestArgs(['--json'])!.json).toBe('-');
    expect(parseLoadtestArgs(['--json', '--duration', '2'])!).toMatchObject({ json: '-', durationS: 2 });
    expect(parseLoadtestArgs(['--json', '-'])!.json).toBe('-');
    expect(parseLoadtestArgs(['--json', 'out.json'])!.json).toBe('out.json');
  });

  it('returns null for --help', () => {
    expect(parseLoadtestArgs(['--help'])).toBeNull();
    expect(parseLoadtestArgs(['-h'])).toBeNull();
  });

  it.each([
    [['--connections', '0']],
    [['--connections', '2.5']],
    [['--rows-per-request', 'x']],
    [['--duration', '-1']],
    [['--duration', String(MAX_DURATION_S + 1)]],
    [['--rate', '0']],
    [['--protocol', 'v3']],
    [['--url', 'ftp://127.0.0.1']],
    [['--url', 'not a url']],
    [['--unknown']],
    [['positional']],
  ])('rejects %j with a typed error', (argv) => {
    expect(() => parseLoadtestArgs(argv)).toThrow(BadInputError);
  });
});

describe('isLoopback', () => {
  it('accepts only loopback hosts', () => {
    expect(isLoopback('http://127.0.0.1:8080')).toBe(true);
    expect(isLoopback('http://127.3.2.1')).toBe(true);
    expect(isLoopback('http://localhost:1')).toBe(true);
    expect(isLoopback('http://[::1]:8080')).toBe(true);
    expect(isLoopback('http://10.0.0.1:8080')).toBe(false);
    expect(isLoopback('http://example.com')).toBe(false);
  });
});

describe('inferPath', () => {
  it('builds both protocols with and without a version, escaping names', () => {
    expect(inferPath('v2', 'churn', null)).toBe('/v2/models/churn/infer');
    expect(inferPath('v2', 'churn', '2')).toBe('/v2/models/churn/versions/2/infer');
    expect(inferPath('v1', 'churn', null)).toBe('/v1/models/churn:predict');
    expect(inferPath('v1', 'a b', '1')).toBe('/v1/models/a%20b/versions/1:predict');
  });
});
