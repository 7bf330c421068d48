import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanRepository } from './scan-repository.js';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'grove-scan-test-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

// root/ok/1/model.txt               a file
// root/inside/1/model.txt -> root/ok/1/model.txt   a link that stays in the repository
// root/out/1/model.txt -> ../outside/secret.txt    a link out of it
// root/outdir/1 -> ../outside/v                    a version folder out of it
// root/outmodel -> ../outside/m                    a model folder out of it
// root/outcfg/config.json -> ../outside/secret.txt
const root = join(base, 'root');
const outside = join(base, 'outside');
for (const d of ['ok/1', 'inside/1', 'out/1', 'outdir', 'outcfg/1'])
  mkdirSync(join(root, d), { recursive: true });
for (const d of ['v', 'm/1']) mkdirSync(join(outside, d), { recursive: true });
writeFileSync(join(root, 'ok/1/model.txt'), 'tree\n');
writeFileSync(join(root, 'outcfg/1/model.txt'), 'tree\n');
writeFileSync(join(outside, 'secret.txt'), 'root:x:0:0:SECRET\n');
writeFileSync(join(outside, 'v/model.txt'), 'tree\n');
writeFileSync(join(outside, 'm/1/model.txt'), 'tree\n');
symlinkSync(join(root, 'ok/1/model.txt'), join(root, 'inside/1/model.txt'));
symlinkSync(join(outside, 'secret.txt'), join(root, 'out/1/model.txt'));
symlinkSync(join(outside, 'v'), join(root, 'outdir/1'));
symlinkSync(join(outside, 'm'), join(root, 'outmodel'));
symlinkSync(join(outside, 'secret.txt'), join(root, 'outcfg/config.json'));

describe('scanning a repository with symbolic links', () => {
  it('follows links inside the root, refuses links out of it, and never reads what they point at', async () => {
    const models = new Map((await scanRepository(root)).map((m) => [m.name, m]));
    const v = (name: string) => models.get(name)!.versions[0]!;
    expect(v('ok').file).toBe(join(root, 'ok/1/model.txt'));
    expect(v('inside').file).toBe(join(root, 'ok/1/model.txt'));
    expect(v('inside').problem).toBeNull();
    expect(v('out').file).toBeNull();
    expect(v('out').problem).toMatch(/model\.txt links outside the model repository.*--follow-symlinks/);
    expect(v('outdir').file).toBeNull();
    expect(v('outdir').problem).toMatch(/links outside/);
    expect(models.has('outmodel')).toBe(false);
    expect(models.get('outcfg')!.configText).toBeNull();
    expect(models.get('outcfg')!.configProblem).toMatch(/config\.json links outside/);
    expect(JSON.stringify([...models.values()])).not.toContain('SECRET');
  });

  it('with followSymlinks, every link is followed to its resolved path', async () => {
    const models = new Map((await scanRepository(root, { followSymlinks: true })).map((m) => [m.name, m]));
    const v = (name: string) => models.get(name)!.versions[0]!;
    expect(v('out').file).toBe(join(outside, 'secret.txt'));
    expect(v('outdir').file).toBe(join(outside, 'v/model.txt'));
    expect(v('outmodel').file).toBe(join(outside, 'm/1/model.txt'));
    expect(models.get('outcfg')!.configText).toContain('SECRET');
  });
});
