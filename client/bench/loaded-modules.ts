// Which modules `import(spec)` loads in a fresh Node process started in the project root (so
// 'grove' resolves through package.json "exports" as an installed package does): a
// module-resolution hook (node:module register) appends every resolved URL to a file. Used by the
// library-entry test and `npm run bench:import`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { projectRoot } from '../../shared/runtime-path.js';

const run = promisify(execFile);

const HOOKS = `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(out, r.url + '\\n');
  return r;
}`;

/** The distinct URLs (file:, node:) of every module the import loads, in load order. */
export async function modulesLoadedBy(spec: string): Promise<string[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'grove-loaded-'));
  try {
    const hooks = join(tmp, 'hooks.mjs');
    const out = join(tmp, 'urls.txt');
    const register = join(tmp, 'register.mjs');
    writeFileSync(hooks, HOOKS);
    writeFileSync(out, '');
    writeFileSync(
      register,
      `import { register } from 'node:module';\n` +
        `register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { out: ${JSON.stringify(out)} } });\n`,
    );
    await run(
      process.execPath,
      ['--import', register, '--input-type=module', '-e', `await import(${JSON.stringify(spec)});`],
      { cwd: projectRoot },
    );
    return [...new Set(readFileSync(out, 'utf8').split('\n').filter(Boolean))];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The npm packages among loaded module URLs. */
export function packagesOf(urls: readonly string[]): string[] {
  const packages = new Set<string>();
  for (const u of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    if (m) packages.add(m[1]!);
  }
  return [...packages].sort();
}
