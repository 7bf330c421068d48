// Runs the built CLI (node dist/cli/grove.js) as a user would, for the CLI integration tests.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { builtFile } from '../../shared/runtime-path.js';

const run = promisify(execFile);
export const GROVE = builtFile('cli/grove.js');

/** `grove ARGS...`: its exit code and output (a failing command resolves too). */
export async function grove(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [GROVE, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
