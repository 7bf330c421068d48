// Recognises client bodies whose rows can be coalesced with other clients' rows into one upstream
// call, builds the merged body and cuts the merged answer back into each client's answer by
// slicing its text (json-scan.ts), not by parsing and re-encoding it. Only plain shapes merge: a
// `:predict` body whose one key is `instances`, an `infer` body with only `id` and one input of
// `name`, `shape` [rows, features], `datatype` and flat numeric `data`. Anything else (parameters,
// requested outputs, contributions, raw margins, mixed row shapes, nested tensors) is forwarded as
// it is, so the worker stays the one authority on the public API's semantics.
import { arrayElements, type Member, member, objectMembers, ws } from './json-scan.js';

export const KIND_PREDICT = 0;
export const KIND_INFER = 1;

export interface RowsPart {
  kind: number;
  rows: number;
  /** The rows as JSON text without the enclosing brackets (instances, or flat infer data). */
  raw: string;
  /** Lane discriminator beyond model/version: row shape (predict), input name/datatype/width (infer). */
  shape: string;
  /** Infer only. */
  inputName?: string;
  datatype?: string;
  width?: number;
  id?: string;
}

/** The text between an array value's brackets (the value spans s[start, end)). */
function inner(s: string, start: number, end: number): string {
  return s.slice(ws(s, start + 1), end - 1).trimEnd();
}

export function parsePredictRows(text: string, maxRows: number): RowsPart | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  let keys = 0;
  for (const _ in body) keys++;
  const inst = (body as { instances?: unknown }).instances;
  if (keys !== 1 || !Array.isArray(inst) || inst.length === 0 || inst.length > maxRows) return null;
  const first = inst[0];
  let shape: string;
  if (Array.isArray(first)) {
    shape = `a${first.length}`;
    for (let i = 1; i < inst.length; i++)
      if (!Array.isArray(inst[i]) || inst[i].length !== first.length) return null;
  } else if (first && typeof first === 'object') {
    shape = 'o';
    for (let i = 1; i < inst.length; i++)
      if (!inst[i] || typeof inst[i] !== 'object' || Array.isArray(inst[i])) return null;
  } else return null;
  const ms = objectMembers(text, ws(text, 0));
  const m = ms && member(ms, 'instances');
  if (!m) return null;
  return { kind: KIND_PREDICT, rows: inst.length, raw: inner(text, m.start, m.end), shape };
}

/**
 * The row count the first `"shape"` member states ([N, ...]), or 0 when there is none to read.
 * Only a hint: JSON.parse keeps the last of repeated keys, and the full check follows.
 */
function statedRows(s: string): number {
  const k = s.indexOf('"shape"');
  if (k < 0) return 0;
  let i = ws(s, k + 7);
  if (s.charCodeAt(i) !== 58) return 0; // ':'
  i = ws(s, i + 1);
  if (s.charCodeAt(i) !== 91) return 0; // '['
  i = ws(s, i + 1);
  let n = 0;
  let digits = 0;
  for (; digits < 10; i++, digits++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  return digits === 0 ? 0 : n;
}

export function parseInferRows(text: string, maxRows: number): RowsPart | null {
  // A body that says it holds more rows than a merge takes is not parsed (parsing a large batch's
  // numbers to learn that was most of the gateway's CPU for it under load). Null only means "not
  // merged": the request goes on as it is, so a misleading hint costs nothing but the merge.
  if (statedRows(text) > maxRows) return null;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const b = body as { id?: unknown; inputs?: unknown };
  for (const k in b) if (k !== 'id' && k !== 'inputs') return null;
  if (b.id !== undefined && typeof b.id !== 'string') return null;
  if (!Array.isArray(b.inputs) || b.inputs.length !== 1) return null;
  const inp = b.inputs[0] as { name?: unknown; shape?: unknown; datatype?: unknown; data?: unknown };
  if (!inp || typeof inp !== 'object') return null;
  for (const k in inp) if (k !== 'name' && k !== 'shape' && k !== 'datatype' && k !== 'data') return null;
  const { name, shape, datatype, data } = inp;
  if (typeof name !== 'string' || typeof datatype !== 'string' || !Array.isArray(shape) || shape.length !== 2)
    return null;
  const [n, f] = shape as unknown[];
  if (
    !Number.isInteger(n) ||
    !Number.isInteger(f) ||
    (n as number) < 1 ||
    (n as number) > maxRows ||
    (f as number) < 1
  )
    return null;
  if (!Array.isArray(data) || data.length !== (n as number) * (f as number)) return null;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (typeof x !== 'number' && x !== null) return null;
  }
  // The data's own text, found where JSON.parse took it from (the last of repeated keys).
  const top = objectMembers(text, ws(text, 0));
  const inputs = top && member(top, 'inputs');
  if (!inputs) return null;
  const el = arrayElements(text, inputs.start);
  const im = el && el.length === 2 ? objectMembers(text, el[0]!) : null;
  const dm = im && member(im, 'data');
  if (!dm) return null;
  return {
    kind: KIND_INFER,
    rows: n as number,
    raw: inner(text, dm.start, dm.end),
    shape: `${name}\u0000${datatype}\u0000${f}`,
    inputName: name,
    datatype,
    width: f as number,
    id: b.id as string | undefined,
  };
}

/** The merged upstream body for `parts` (same lane). */
export function mergeBody(parts: readonly RowsPart[], rows: number): string {
  let joined = parts[0]!.raw;
  for (let i = 1; i < parts.length; i++) joined += ',' + parts[i]!.raw;
  const p = parts[0]!;
  if (p.kind === KIND_PREDICT) return `{"instances":[${joined}]}`;
  return `{"inputs":[{"name":${JSON.stringify(p.inputName)},"shape":[${rows},${p.width}],"datatype":${JSON.stringify(p.datatype)},"data":[${joined}]}]}`;
}

/** Splits a merged answer; `slice(offset, rows, id)` gives one client's body. Null if the answer has an unexpected shape. */
export interface SplitAnswer {
  slice(offset: number, rows: number, id: string | undefined): string;
  /** Values of rows [offset, offset+rows), for shadow comparison. */
  values(offset: number, rows: number): unknown[];
}

export function splitAnswer(kind: number, text: string, rows: number): SplitAnswer | null {
  const top = objectMembers(text, ws(text, 0));
  if (top === null || ws(text, endOf(top, text)) !== text.length) return null;
  return kind === KIND_PREDICT ? splitPredict(text, top, rows) : splitInfer(text, top, rows);
}

/** Where the object whose members are `ms` ends (its '}' is after the last member). */
function endOf(ms: Member[], text: string): number {
  if (ms.length === 0) return text.indexOf('}') + 1;
  return text.indexOf('}', ms[ms.length - 1]!.end) + 1;
}

/** Text of elements [from, to) of an element-span list. */
function span(text: string, el: number[], from: number, to: number): string {
  return text.slice(el[2 * from]!, el[2 * to - 1]!);
}

function splitPredict(text: string, top: Member[], rows: number): SplitAnswer | null {
  const preds = member(top, 'predictions');
  if (!preds) return null;
  const el = arrayElements(text, preds.start);
  if (el === null || el.length !== 2 * rows) return null;
  let tail = '';
  for (const m of top)
    if (m !== preds && m.key !== 'predictions') tail += `,"${m.key}":${text.slice(m.start, m.end)}`;
  tail += '}';
  return {
    slice: (off, n) => `{"predictions":[${span(text, el, off, off + n)}]${tail}`,
    values: (off, n) => parseList(span(text, el, off, off + n)),
  };
}

interface OutputCut {
  /** The output object's members, with shape and data located. */
  members: Member[];
  shape: number[];
  width: number;
  data: number[];
}

function splitInfer(text: string, top: Member[], rows: number): SplitAnswer | null {
  const outs = member(top, 'outputs');
  if (!outs) return null;
  const oel = arrayElements(text, outs.start);
  if (oel === null || oel.length === 0) return null;
  const cuts: OutputCut[] = [];
  for (let i = 0; i < oel.length; i += 2) {
    const ms = objectMembers(text, oel[i]!);
    const sm = ms && member(ms, 'shape');
    const dm = ms && member(ms, 'data');
    if (!ms || !sm || !dm) return null;
    let shape: unknown;
    try {
      shape = JSON.parse(text.slice(sm.start, sm.end));
    } catch {
      return null;
    }
    if (!Array.isArray(shape) || shape[0] !== rows || !shape.every((x) => Number.isInteger(x) && x >= 0))
      return null;
    let width = 1;
    for (let k = 1; k < shape.length; k++) width *= shape[k] as number;
    const data = arrayElements(text, dm.start);
    if (data === null || data.length !== 2 * rows * width) return null;
    cuts.push({ members: ms, shape: shape as number[], width, data });
  }
  let rest = '';
  for (const m of top) {
    if (m.key === 'outputs' || m.key === 'id') continue;
    rest += `${rest === '' ? '' : ','}"${m.key}":${text.slice(m.start, m.end)}`;
  }
  const head = rest === '' ? '{' : `{${rest},`;
  return {
    slice(off, n, id) {
      let out = '';
      for (const c of cuts) {
        let o = '';
        for (const m of c.members) {
          let v: string;
          if (m.key === 'shape') v = JSON.stringify([n, ...c.shape.slice(1)]);
          else if (m.key === 'data')
            v = c.width === 0 ? '[]' : `[${span(text, c.data, off * c.width, (off + n) * c.width)}]`;
          else v = text.slice(m.start, m.end);
          o += `${o === '' ? '' : ','}"${m.key}":${v}`;
        }
        out += `${out === '' ? '' : ','}{${o}}`;
      }
      return `${head}${id !== undefined ? `"id":${JSON.stringify(id)},` : ''}"outputs":[${out}]}`;
    },
    values(off, n) {
      const c = cuts[0]!;
      return c.width === 0 ? [] : parseList(span(text, c.data, off * c.width, (off + n) * c.width));
    },
  };
}

/** The values of a list's text (an unreadable one compares as different from anything). */
function parseList(items: string): unknown[] {
  try {
    return JSON.parse(`[${items}]`) as unknown[];
  } catch {
    return [];
  }
}

/** Max absolute difference between two prediction slices (non-numeric values count 1 when unequal). */
export function maxAbsDiff(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b);
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return Infinity;
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, maxAbsDiff(a[i], b[i]));
    return m;
  }
  return a === b ? 0 : 1;
}
