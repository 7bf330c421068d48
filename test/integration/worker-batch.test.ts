// Streaming batch (`:batch`) on a real worker: CSV and NDJSON answers equal the library's
// predictions in order, and a 50 MB stream passes with bounded worker memory (backpressure).
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeTo,
  fixtureRows,
  makeRepository,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

const FIX = 'xgboost/xgb-multiclass';
let repo: string;
let w: WorkerProcess;

beforeAll(async () => {
  repo = makeRepository({ multi: { '1': FIX }, bin: { '1': 'lightgbm/lgb-binary-100x4' } });
  w = await startWorkerProcess(repo);
});

afterAll(async () => {
  expect(await w.stop()).toBe(0);
  removeRepository(repo);
});

function csvOf(header: string[], rows: (number | null)[][]): string {
  return (
    header.join(',') +
    '\n' +
    rows.map((r) => r.map((x) => (x === null ? '' : String(x))).join(',')).join('\n') +
    '\n'
  );
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

describe('worker streaming batch', () => {
  it('answers CSV with a header of output names, one line per row, in order', async () => {
    const { header, rows, pred } = fixtureRows(FIX);
    // Reorder the columns: the header decides which value is which feature.
    const order = header.map((_, j) => j).reverse();
    const csv =
      order.map((j) => header[j]).join(',') +
      '\n' +
      rows.map((r) => order.map((j) => (r[j] === null ? '' : r[j])).join(',')).join('\n');
    const r = await fetch(`${w.url}/v1/models/multi:batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: csv,
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/csv');
    expect(r.headers.get('x-grove-model-version')).toBe('1');
    const lines = (await r.text()).trim().split('\n');
    expect(lines[0]).toBe('0,1,2');
    expect(lines.length).toBe(rows.length + 1);
    for (let i = 0; i < rows.length; i++) {
      const got = lines[i + 1]!.split(',').map(Number);
      for (let k = 0; k < 3; k++)
        if (!closeTo(got[k]!, pred[i]![k]!)) throw new Error(`row ${i}: ${got} vs ${pred[i]}`);
    }
  });

  it('reads past the columns ?exclude= names (an id column), which otherwise are unknown features', async () => {
    const { header, rows } = fixtureRows(FIX);
    const body = (ids: boolean) =>
      (ids ? 'id,' : '') +
      header.join(',') +
      '\n' +
      rows.map((r, i) => (ids ? `k${i},` : '') + r.map((x) => (x === null ? '' : x)).join(',')).join('\n');
    const post = (path: string, csv: string) =>
      fetch(`${w.url}/v1/models/multi${path}`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: csv,
      });
    const plain = await post(':batch', body(false));
    const excluded = await post(':batch?exclude=id', body(true));
    expect(excluded.status).toBe(200);
    expect(await excluded.text()).toBe(await plain.text());
    const refused = await post(':batch?exclude=other', body(true));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe('GROVE_ERR_UNKNOWN_FEATURE');
  });

  it('answers NDJSON (arrays and named objects) with one object per row', async () => {
    const { header, rows, pred } = fixtureRows(FIX);
    const lines = rows
      .slice(0, 500)
      .map((r, i) =>
        i % 2 === 0
          ? JSON.stringify(r)
          : JSON.stringify(Object.fromEntries(r.map((x, j) => [header[j], x]).filter(([, x]) => x !== null))),
      );
    const r = await fetch(`${w.url}/v1/models/multi/versions/1:batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: lines.join('\n') + '\n',
    });
    expect(r.status).toBe(200);
    const out = (await r.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out.length).toBe(500);
    out.forEach((o, i) => {
      for (let k = 0; k < 3; k++) if (!closeTo(o[String(k)], pred[i]![k]!)) throw new Error(`row ${i}`);
    });
  });

  it('reads missing-value spellings, quoted fields and a BOM as the CSV rule says (docs/formats.md)', async () => {
    const { header, rows, pred } = fixtureRows(FIX);
    const spell = ['', 'NA', 'NaN', 'null', 'None', '#N/A'];
    let k = 0;
    const lines = rows
      .slice(0, 40)
      .map((r) =>
        r.map((x) => (x === null ? spell[k++ % spell.length] : k % 3 === 0 ? `"${x}"` : String(x))).join(','),
      );
    const r = await fetch(`${w.url}/v1/models/multi:batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: `\uFEFF${header.join(',')}\r\n${lines.join('\r\n')}\r\n`,
    });
    expect(r.status).toBe(200);
    const out = (await r.text()).trim().split('\n').slice(1);
    expect(out.length).toBe(40);
    out.forEach((l, i) => {
      const got = l.split(',').map(Number);
      for (let c = 0; c < 3; c++) if (!closeTo(got[c]!, pred[i]![c]!)) throw new Error(`row ${i}: ${got}`);
    });
  });

  it('refuses a bad header or bad values with a 4xx JSON error', async () => {
    const bad = await fetch(`${w.url}/v1/models/multi:batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'f0,nope\n1,2\n',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('GROVE_ERR_UNKNOWN_FEATURE');
    const nan = await fetch(`${w.url}/v1/models/multi:batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'f0,f1\n1,abc\n',
    });
    expect(nan.status).toBe(400);
    expect(((await nan.json()) as { code: string }).code).toBe('GROVE_ERR_NOT_NUMERIC');
    // Not one of pandas' missing-value spellings: refused rather than guessed at.
    const upper = await fetch(`${w.url}/v1/models/multi:batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'f0,f1\n1,NAN\n',
    });
    expect(upper.status).toBe(400);
    expect((await upper.json()) as { error: string }).toMatchObject({
      error: expect.stringContaining("'NAN'"),
    });
  });

  it('a refusal at the header of a big body reads the rest, so the client gets it and the connection serves on', async () => {
    const { header, rows } = fixtureRows(FIX);
    // Far more than one read: the worker refuses after reading the header and must not stop reading
    // the rest on a connection it keeps (the client would wait forever to finish sending), nor cut
    // the connection while the client still sends (it would fail before reading the answer).
    const line = rows[0]!.map((x) => (x === null ? '' : x)).join(',');
    const big = `nope,${header.join(',')}\n${`1,${line}\n`.repeat(20_000)}`;
    const client = new Client(w.url); // one connection
    try {
      const refused = await client.request({
        method: 'POST',
        path: '/v1/models/multi:batch',
        headers: { 'content-type': 'text/csv' },
        body: big,
      });
      expect(refused.statusCode).toBe(400);
      expect(((await refused.body.json()) as { code: string }).code).toBe('GROVE_ERR_UNKNOWN_FEATURE');
      const next = await client.request({
        method: 'POST',
        path: '/v1/models/multi:batch',
        headers: { 'content-type': 'text/csv' },
        body: `${header.join(',')}\n${line}\n`,
      });
      expect(next.statusCode).toBe(200);
      expect((await next.body.text()).trim().split('\n').length).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('a CSV sent as curl -d sends it (newlines stripped) gets a short error naming the features', async () => {
    const { header, rows } = fixtureRows('lightgbm/lgb-binary-100x4');
    // curl -d @file drops the newlines and sends application/x-www-form-urlencoded.
    const flat = csvOf(header, rows).replace(/\n/g, '');
    const form = await fetch(`${w.url}/v1/models/bin:batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: flat,
    });
    expect(form.status).toBe(415);
    expect(await form.json()).toEqual({
      error:
        "unsupported content type 'application/x-www-form-urlencoded'; send one of text/csv, application/csv, application/x-ndjson, application/ndjson, application/jsonl, application/jsonlines",
      code: 'GROVE_ERR_UNSUPPORTED_MEDIA_TYPE',
    });
    const csv = await fetch(`${w.url}/v1/models/bin:batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: flat,
    });
    expect(csv.status).toBe(400);
    const text = await csv.text();
    expect(text.length).toBeLessThan(1200);
    const body = JSON.parse(text) as { error: string; code: string };
    expect(body.code).toBe('GROVE_ERR_UNKNOWN_FEATURE');
    expect(body.error).toMatch(/\(and \d+ more\)/);
    expect(body.error).toContain(`the model's 20 features are ${header.join(', ')}`);
    expect(body.error).toContain('--data-binary @file');
  });

  it('streams 50 MB through with bounded worker memory', async () => {
    const { header, rows } = fixtureRows('lightgbm/lgb-binary-100x4');
    const block = Buffer.from(csvOf(header, rows).split('\n').slice(1).join('\n'));
    const target = 50 * 1024 * 1024;
    let sent = 0;
    const body = Readable.from(
      (function* () {
        yield Buffer.from(header.join(',') + '\n');
        while (sent < target) {
          sent += block.length;
          yield block;
        }
      })(),
    );
    const pid = w.child.pid!;
    const before = rssOf(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
    const r = await fetch(`${w.url}/v1/models/bin:batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(r.status).toBe(200);
    // Read the answer as a stream, slowly enough to exercise backpressure, counting lines.
    let lines = 0;
    const reader = r.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const b of value) if (b === 10) lines++;
    }
    clearInterval(sampler);
    const expectedRows = Math.ceil(target / block.length) * rows.length;
    expect(lines).toBe(expectedRows + 1);
    expect(peak - before).toBeLessThan(200 * 1024 * 1024);
  });
});
