import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../runtime-path.js';
import { ERROR_CATALOGUE, isGroveErrorCode } from './catalogue.js';
import { renderErrorsDoc } from './errors-doc.js';
import { GroveError } from './grove-error.js';

describe('error catalogue', () => {
  it('docs/errors.md is the rendered catalogue (run npm run docs:errors after adding a code)', () => {
    expect(readFileSync(join(projectRoot, 'docs', 'errors.md'), 'utf8')).toBe(renderErrorsDoc());
  });

  it('every GROVE_ERR_ code written anywhere in the source is in the catalogue', () => {
    const files = execFileSync('git', ['ls-files', '*.ts', '*.md', '*.mjs'], {
      cwd: projectRoot,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((f) => f && !f.startsWith('test/fixtures/'));
    const unknown = new Set<string>();
    for (const f of files) {
      let text: string;
      try {
        text = readFileSync(join(projectRoot, f), 'utf8');
      } catch {
        continue; // listed by git but deleted in the work tree
      }
      for (const m of text.matchAll(/GROVE_ERR_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_])/g)) {
        if (!isGroveErrorCode(m[0])) unknown.add(`${m[0]} (${f})`);
      }
    }
    expect([...unknown]).toEqual([]);
  });

  it('a GroveError takes its status from the catalogue; an unknown wire code becomes internal', () => {
    expect(new GroveError('x', 'GROVE_ERR_TOO_MANY_ROWS').statusCode).toBe(413);
    const e = GroveError.fromWire('from a thread', ['GROVE_ERR', 'NO_SUCH_THING'].join('_'));
    expect([e.code, e.statusCode, e.message]).toEqual(['GROVE_ERR_INTERNAL', 500, 'from a thread']);
    for (const spec of Object.values(ERROR_CATALOGUE)) expect(spec.status).toBeGreaterThanOrEqual(400);
  });
});
