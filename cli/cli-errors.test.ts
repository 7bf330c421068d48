import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GroveError } from '../shared/errors/grove-error.js';
import { checkInputFile, toCliError } from './cli-errors.js';

const dir = mkdtempSync(join(tmpdir(), 'grove-cli-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('toCliError', () => {
  it("maps Node's file errors to GROVE_ERR_FILE naming the path", () => {
    const missing = toCliError(caught(() => readFileSync(join(dir, 'nope.csv'))));
    expect([missing.code, missing.message]).toEqual([
      'GROVE_ERR_FILE',
      `'${join(dir, 'nope.csv')}' does not exist`,
    ]);
    const folder = toCliError(caught(() => readFileSync(dir)));
    expect(folder.code).toBe('GROVE_ERR_FILE');
    expect(folder.message).toMatch(/EISDIR/);
  });

  it('maps a port in use to GROVE_ERR_LISTEN naming the address', async () => {
    const a = createServer();
    await new Promise<void>((r) => a.listen(0, '127.0.0.1', r));
    const port = (a.address() as { port: number }).port;
    const b = createServer();
    const err = await new Promise<unknown>((r) => {
      b.once('error', r);
      b.listen(port, '127.0.0.1');
    });
    a.close();
    const g = toCliError(err);
    expect(g.code).toBe('GROVE_ERR_LISTEN');
    expect(g.message).toContain(`127.0.0.1:${port} is already in use`);
  });

  it('keeps GroveErrors and makes anything else an internal error without its stack', () => {
    const e = new GroveError('bad', 'GROVE_ERR_BAD_INPUT');
    expect(toCliError(e)).toBe(e);
    const g = toCliError(new TypeError('x is undefined'));
    expect([g.code, g.message]).toEqual(['GROVE_ERR_INTERNAL', 'internal error: x is undefined']);
  });
});

describe('checkInputFile', () => {
  it('names the flag, and for a model folder the model file inside it', () => {
    const models = join(import.meta.dirname, '..', 'models', 'churn', '1');
    const e = caught(() => checkInputFile(models, '--model', 'model')) as GroveError;
    expect(e.code).toBe('GROVE_ERR_FILE');
    expect(e.message).toBe(
      `--model '${models}' is a folder, not a file; the model file in it is ${join(models, 'model.json')}`,
    );
    const m = caught(() => checkInputFile(join(dir, 'x.csv'), '--data')) as GroveError;
    expect(m.message).toBe(`--data '${join(dir, 'x.csv')}' does not exist`);
    expect(() => checkInputFile(join(models, 'model.json'), '--model', 'model')).not.toThrow();
  });
});
