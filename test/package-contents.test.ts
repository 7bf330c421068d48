// What `npm publish` would ship: the built CLI and runtime, not the test helpers or the benchmark
// scripts (they need the fixtures and peers, which the package does not carry), and nothing
// shipped imports a file that is not shipped.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../shared/runtime-path.js';

function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: projectRoot,
    encoding: 'utf8',
  });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}

describe('the published package', () => {
  const files = packedFiles();

  it('holds the CLI and the runtime but no test helpers or benchmark scripts', () => {
    expect(files).toContain('dist/cli/grove.js');
    expect(files).toContain('dist/shared/runtime/load.js');
    expect(files).toContain('dist/cli/commands/bench.js'); // `grove bench` is a user command
    const unwanted = files.filter(
      (f) =>
        /(^|\/)(bench|testing)\//.test(f) || /(^|\/)bench-[^/]*$/.test(f) || /\.test(-helper)?\./.test(f),
    );
    expect(unwanted).toEqual([]);
  });

  it('every relative import of a shipped module is shipped', () => {
    const shipped = new Set(files);
    const missing: string[] = [];
    let checked = 0;
    for (const f of files.filter((p) => p.endsWith('.js'))) {
      const text = readFileSync(join(projectRoot, f), 'utf8');
      const imports =
        /^(?:import|export)\b[^;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]/gm;
      for (const m of text.matchAll(imports)) {
        const target = normalize(join(dirname(f), (m[1] ?? m[2])!));
        checked++;
        if (!shipped.has(target)) missing.push(`${f} -> ${target}`);
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(300); // the pattern does see the imports
  });
});
