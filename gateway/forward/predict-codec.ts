// Recognises client bodies whose rows can be coalesced with other clients' rows into one upstream
// call (the main lever on gateway throughput: docs/architecture.md, Targets), builds the merged body and
// splits the merged answer back per client. Anything unusual (parameters, requested outputs,
// mixed row shapes, non-flat tensors) is not coalesced: it is forwarded as is, so the worker
// stays the single authority on the public API's semantics.
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
  // The body parsed as an object whose only key is "instances": its first ':' ends the key and the
  // array runs from the next '[' to the text's last ']'.
  const start = text.indexOf('[', text.indexOf(':'));
  const end = text.lastIndexOf(']');
  if (start < 0 || end <= start) return null;
  return { kind: KIND_PREDICT, rows: inst.length, raw: text.slice(start + 1, end), shape };
}

export function parseInferRows(text: string, maxRows: number): RowsPart | null {
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
  const raw = JSON.stringify(data);
  return {
    kind: KIND_INFER,
    rows: n as number,
    raw: raw.slice(1, -1),
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
  /** Numeric values of rows [offset, offset+rows), for shadow comparison. */
  values(offset: number, rows: number): unknown[];
}

export function splitAnswer(kind: number, text: string, rows: number): SplitAnswer | null {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(text);
  } catch {
    return null;
  }
  if (!obj || typeof obj !== 'object') return null;
  if (kind === KIND_PREDICT) {
    const preds = obj.predictions;
    if (!Array.isArray(preds) || preds.length !== rows) return null;
    let tail = '';
    for (const k in obj) if (k !== 'predictions') tail += `,${JSON.stringify(k)}:${JSON.stringify(obj[k])}`;
    tail += '}';
    return {
      slice: (off, n) =>
        `{"predictions":${n === 1 ? `[${JSON.stringify(preds[off])}]` : JSON.stringify(preds.slice(off, off + n))}${tail}`,
      values: (off, n) => preds.slice(off, off + n),
    };
  }
  const outputs = obj.outputs;
  if (!Array.isArray(outputs) || outputs.length === 0) return null;
  const widths: number[] = [];
  for (const o of outputs as { shape?: unknown; data?: unknown }[]) {
    if (!o || !Array.isArray(o.shape) || o.shape[0] !== rows || !Array.isArray(o.data)) return null;
    let k = 1;
    for (let i = 1; i < o.shape.length; i++) k *= o.shape[i] as number;
    if (o.data.length !== rows * k) return null;
    widths.push(k);
  }
  const rest: Record<string, unknown> = {};
  for (const k in obj) if (k !== 'outputs' && k !== 'id') rest[k] = obj[k];
  const restText = JSON.stringify(rest).slice(0, -1);
  return {
    slice(off, n, id) {
      const outs = (outputs as { shape: number[]; data: unknown[] }[]).map((o, i) => ({
        ...o,
        shape: [n, ...o.shape.slice(1)],
        data: o.data.slice(off * widths[i]!, (off + n) * widths[i]!),
      }));
      return `${restText}${restText.length > 1 ? ',' : ''}${id !== undefined ? `"id":${JSON.stringify(id)},` : ''}"outputs":${JSON.stringify(outs)}}`;
    },
    values: (off, n) =>
      (outputs[0] as { data: unknown[] }).data.slice(off * widths[0]!, (off + n) * widths[0]!),
  };
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
