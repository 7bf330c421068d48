// Test helpers that make hostile containers from real ones, as an attacker with a hex editor and
// sha256 would: rewrite the descriptor JSON (any field, any value), or change section bytes. The
// probe PAYLOAD is JavaScript that, if it ever ran, sets globalThis.__groveHostileRan and writes
// the file named by GROVE_HOSTILE_PROBE.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTAINER_MAGIC, Container, LAYOUT_VERSION } from '../container.js';
import { encodeGroveFile } from '../formats/grove-binary.js';
import { loadModel, loadModelBuffer, modelFromBuffer } from '../load.js';
import type { Model } from '../model.js';

const P = 'process.env.GROVE_HOSTILE_PROBE';
export const PAYLOAD = `(globalThis.__groveHostileRan=1,${P}&&process.getBuiltinModule('fs').writeFileSync(${P},''),1)`;

// biome-ignore lint/suspicious/noExplicitAny: descriptors are edited as the untyped JSON they are
export type Json = any;

const align = (n: number) => Math.ceil(n / 64) * 64;

/** A copy of `sab` whose descriptor is `edit`ed (sections keep their bytes; offsets move along). */
export function withDescriptor(sab: SharedArrayBuffer, edit: (d: Json) => void): SharedArrayBuffer {
  const d = structuredClone(new Container(sab).descriptor) as Json;
  const refs = Object.values(d.sections) as { offset: number }[];
  const first = refs.length ? Math.min(...refs.map((r) => r.offset)) : sab.byteLength;
  edit(d);
  const draft = Buffer.from(JSON.stringify(d), 'utf8');
  const start = align(16 + draft.length + 4096);
  const delta = start - first;
  if (d && typeof d.sections === 'object' && d.sections !== null) {
    for (const r of Object.values(d.sections) as { offset: unknown }[])
      if (r && typeof r.offset === 'number') r.offset += delta;
  }
  const json = Buffer.from(JSON.stringify(d), 'utf8');
  const out = new SharedArrayBuffer(start + (sab.byteLength - first));
  const head = new DataView(out);
  head.setUint32(0, CONTAINER_MAGIC, true);
  head.setUint32(4, LAYOUT_VERSION, true);
  head.setUint32(8, json.length, true);
  new Uint8Array(out, 16, json.length).set(json);
  new Uint8Array(out, start).set(new Uint8Array(sab, first));
  return out;
}

/** A copy of `sab` after `edit` wrote into its sections (through the container's own views). */
export function withSections(sab: SharedArrayBuffer, edit: (c: Container) => void): SharedArrayBuffer {
  const copy = new SharedArrayBuffer(sab.byteLength);
  new Uint8Array(copy).set(new Uint8Array(sab));
  edit(new Container(copy));
  return copy;
}

/**
 * Loads `sab` as a .grove file and, should it load, predicts a row (the kernels run then): returns
 * the GROVE_ERR_ code it was refused with, or 'LOADED'; any other error is thrown. It goes both
 * ways a file is loaded (loadModel in one step; a load host's loadModelBuffer, then modelFromBuffer
 * where the model serves) and throws if they disagree.
 */
export function refusal(sab: SharedArrayBuffer): string {
  const bytes = encodeGroveFile(sab);
  const direct = outcome(() => loadModel(bytes, { fileName: 'model.grove' }));
  const hosted = outcome(() => modelFromBuffer(loadModelBuffer(bytes, { fileName: 'model.grove' })));
  if (direct !== hosted) throw new Error(`loadModel: ${direct}, through a load host: ${hosted}`);
  return direct;
}

function outcome(load: () => Model): string {
  try {
    const m = load();
    const out = new Float64Array(Math.max(1, m.meta.outputNames.length));
    if (m.meta.sparse) m.predictNamed([{}], out);
    else m.predict(new Float64Array(m.meta.numFeatures * 3).fill(0.5), 3, new Float64Array(out.length * 3));
    return 'LOADED';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('GROVE_ERR_')) return code;
    throw err;
  }
}

/** Runs `fn` with GROVE_HOSTILE_PROBE set; reports whether the payload ran (global or probe file). */
export function payloadRan(fn: () => void): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'grove-hostile-'));
  const probe = join(dir, 'probe');
  const before = process.env.GROVE_HOSTILE_PROBE;
  process.env.GROVE_HOSTILE_PROBE = probe;
  try {
    fn();
    return (
      (globalThis as { __groveHostileRan?: unknown }).__groveHostileRan !== undefined || existsSync(probe)
    );
  } finally {
    if (before === undefined) delete process.env.GROVE_HOSTILE_PROBE;
    else process.env.GROVE_HOSTILE_PROBE = before;
    rmSync(dir, { recursive: true, force: true });
  }
}
