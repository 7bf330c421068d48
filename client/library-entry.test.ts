// `import { loadModel } from 'grove'` in a fresh Node process, resolved through package.json
// "exports" as an installed package is: a module-resolution hook records every module the import
// loads. Only grove's library, runtime and error catalogue load (no npm package at all: no pino,
// prom-client, undici or piscina), and the package's declarations exist for TypeScript users.
// A server module imported the same way shows the recorder does see packages.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { builtFile, projectRoot } from '../shared/runtime-path.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'grove-entry-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HOOKS = `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(out, r.url + '\\n');
  return r;
}`;

/** The URLs of every module `import(spec)` loads in a fresh process started in the project root. */
async function modulesLoadedBy(spec: string, name: string): Promise<string[]> {
  const hooks = join(tmp, 'hooks.mjs');
  writeFileSync(hooks, HOOKS);
  const out = join(tmp, `${name}.txt`);
  writeFileSync(out, '');
  const register = join(tmp, `register-${name}.mjs`);
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { out: ${JSON.stringify(out)} } });\n`,
  );
  await run(
    process.execPath,
    ['--import', register, '--input-type=module', '-e', `await import(${JSON.stringify(spec)});`],
    {
      cwd: projectRoot,
    },
  );
  return readFileSync(out, 'utf8').split('\n').filter(Boolean);
}

describe("the library entry ('grove')", () => {
  it('loads grove’s library, runtime and errors only: no npm package, nothing of the server', async () => {
    const urls = await modulesLoadedBy('grove', 'library');
    const dist = pathToFileURL(join(projectRoot, 'dist')).href;
    expect(urls).toContain(`${dist}/client/index.js`);
    expect(urls).toContain(`${dist}/shared/runtime/load.js`);
    expect(urls.filter((u) => u.includes('/node_modules/'))).toEqual([]);
    for (const pkg of ['pino', 'prom-client', 'undici', 'piscina'])
      expect(urls.join('\n')).not.toContain(pkg);
    const grove = urls.filter((u) => u.startsWith('file:'));
    const allowed = ['client/', 'shared/runtime/', 'shared/errors/'].map((p) => `${dist}/${p}`);
    expect(grove.filter((u) => !allowed.some((a) => u.startsWith(a)))).toEqual([]);
    // The exporter (and the runtime bundle it reads) is the CLI's, not the library's.
    expect(grove.filter((u) => u.includes('/client/export/'))).toEqual([]);
  });

  it('the recorder sees packages: a server module loads pino', async () => {
    const urls = await modulesLoadedBy(pathToFileURL(builtFile('worker/start-worker.js')).href, 'server');
    expect(urls.some((u) => u.includes('/node_modules/pino/'))).toBe(true);
  });

  it('has TypeScript declarations where package.json says', () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>;
      bin: Record<string, string>;
    };
    const entry = pkg.exports['.']!;
    expect(existsSync(join(projectRoot, entry.types))).toBe(true);
    expect(existsSync(join(projectRoot, entry.default))).toBe(true);
    expect(readFileSync(join(projectRoot, entry.types), 'utf8')).toContain('loadModel');
    expect(existsSync(join(projectRoot, pkg.bin.grove!))).toBe(true);
  });
});
