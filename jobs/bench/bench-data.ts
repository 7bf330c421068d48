// Inputs of the jobs benchmark: the demo churn rows (loadtest/data/churn-rows.csv) repeated to N
// rows, written once as a job input (an `id` key column first) and once as `grove predict` reads it.

import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../shared/runtime-path.js';

export async function writeInputs(dir: string, rows: number): Promise<{ keyed: string; plain: string }> {
  const lines = readFileSync(join(projectRoot, 'loadtest', 'data', 'churn-rows.csv'), 'utf8')
    .trimEnd()
    .split('\n');
  const header = lines[0]!;
  const data = lines.slice(1);
  const keyed = join(dir, 'job-input.csv');
  const plain = join(dir, 'predict-input.csv');
  const k = createWriteStream(keyed);
  const p = createWriteStream(plain);
  k.write(`id,${header}\n`);
  p.write(`${header}\n`);
  let bk = '';
  let bp = '';
  for (let i = 0; i < rows; i++) {
    const l = data[i % data.length]!;
    bk += `k${i + 1},${l}\n`;
    bp += `${l}\n`;
    if (bk.length > 1 << 20) {
      if (!k.write(bk)) await once(k, 'drain');
      if (!p.write(bp)) await once(p, 'drain');
      bk = bp = '';
    }
  }
  k.end(bk);
  p.end(bp);
  await Promise.all([once(k, 'finish'), once(p, 'finish')]);
  return { keyed, plain };
}
