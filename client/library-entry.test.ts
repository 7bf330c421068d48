// `import { loadModel } from 'grove'` in a fresh Node process, resolved through package.json
// "exports" as an installed package is: a module-resolution hook records every module the import
// loads. Only grove's library, runtime and error catalogue load (no npm package at all: no pino,
// prom-client, undici or piscina), and the package's declarations exist for TypeScript users.
// A server module imported the same way shows the recorder does see packages.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtFile, projectRoot } from '../shared/runtime-path.js';
import { modulesLoadedBy, packagesOf } from './bench/loaded-modules.js';

describe("the library entry ('grove')", () => {
  it('loads grove’s library, runtime and errors only: no npm package, nothing of the server', async () => {
    const urls = await modulesLoadedBy('grove');
    const dist = pathToFileURL(join(projectRoot, 'dist')).href;
    expect(urls).toContain(`${dist}/client/index.js`);
    expect(urls).toContain(`${dist}/shared/runtime/load.js`);
    expect(packagesOf(urls)).toEqual([]);
    for (const pkg of ['pino', 'prom-client', 'undici', 'piscina'])
      expect(urls.join('\n')).not.toContain(pkg);
    const grove = urls.filter((u) => u.startsWith('file:'));
    const allowed = ['client/', 'shared/runtime/', 'shared/errors/'].map((p) => `${dist}/${p}`);
    expect(grove.filter((u) => !allowed.some((a) => u.startsWith(a)))).toEqual([]);
    // The exporter (and the runtime bundle it reads) is the CLI's, not the library's.
    expect(grove.filter((u) => u.includes('/client/export/'))).toEqual([]);
  });

  it('the recorder sees packages: a server module loads pino', async () => {
    const urls = await modulesLoadedBy(pathToFileURL(builtFile('worker/start-worker.js')).href);
    expect(packagesOf(urls)).toEqual(expect.arrayContaining(['pino', 'piscina', 'prom-client']));
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
