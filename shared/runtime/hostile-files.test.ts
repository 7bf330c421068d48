// Every file of test/fixtures/hostile (its README says what each attacks) is refused by the
// decoders themselves with the code below: no crash, no runaway allocation, no code run. The same
// files go through the bounded loader (isolation/) in a real worker in test/integration/.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withoutFileText } from '../errors/file-text.js';
import { loadModel, loadModelBuffer } from './load.js';
import { payloadRan } from './testing/container-surgery.js';
import { HOSTILE_CODES, HOSTILE_DIR, repositoryName } from './testing/hostile-files.js';

const DIR = HOSTILE_DIR;

describe('hostile model files are refused by the decoders', () => {
  it('the table above lists every file of test/fixtures/hostile', () => {
    const files = readdirSync(DIR).filter((f) => !/\.(md|py)$/.test(f));
    expect(Object.keys(HOSTILE_CODES).sort()).toEqual(files.sort());
  });

  for (const [file, code] of Object.entries(HOSTILE_CODES)) {
    it(`${file}: ${code}`, () => {
      const bytes = new Uint8Array(readFileSync(join(DIR, file)));
      let err: unknown;
      let hostErr: unknown;
      const ran = payloadRan(() => {
        try {
          loadModel(bytes, { fileName: repositoryName(file) });
        } catch (e) {
          err = e;
        }
        // What a load host runs: the same refusal before any kernel is built.
        try {
          loadModelBuffer(bytes, { fileName: repositoryName(file) });
        } catch (e) {
          hostErr = e;
        }
      });
      expect(ran).toBe(false);
      expect((err as { code?: string })?.code).toBe(code);
      expect((hostErr as { code?: string })?.code).toBe(code);
      // The message names the problem; its public form quotes nothing from the file.
      const message = (err as Error).message;
      expect(withoutFileText(message)).not.toMatch(/globalThis|__groveHostileRan|touch \/tmp/);
    });
  }
});
