// Scores a batch of stream messages with the model (docs/streaming.md): decode each row
// (stream/stream-row.ts), pick its version (stream/version-router.ts), then parse every version's
// rows with the worker's v1 instances parser (the same shapes and missing-value rules as
// `:predict`) and predict them in one call through the worker's Predictor (inline, or on the pool
// above its row threshold; metrics, drift monitor and prediction log see them as they see HTTP
// requests). When a batch's parse or predict fails, its rows are retried one by one so only the
// bad rows become dead letters. A failure that is not a row's (no READY version, a pool error) is
// a retry. Results are `{"id", "model", "model_version", "prediction"}`, or `"outputs"` keyed by
// the model's output names when it has several.
import { toGroveError } from '../shared/errors/grove-error.js';
import type { Predictor } from '../worker/execution/predictor.js';
import { parsePredictRequest } from '../worker/protocol/instances-input.js';
import type { ParsedRows } from '../worker/protocol/parsed-rows.js';
import type { LoadedVersion } from '../worker/repository/loaded-version.js';
import type { StreamMessage } from './engine/stream-engine.js';
import type { Outcome, Scorer } from './scoring-loop.js';
import { decodeRow, type StreamRow, stripMeta } from './stream-row.js';
import type { VersionRouter } from './version-router.js';

export interface ModelScorerOptions {
  predictor: Predictor;
  router: Pick<VersionRouter, 'stickyName' | 'pick'>;
  /** Bodies above this many bytes are dead-lettered unread. */
  maxRowBytes: number;
  /** Name each row's message id to the observers (the prediction log records one line per id). */
  traceIds: boolean;
}

/** The constant parts of a version's result bodies. */
interface ResultShape {
  /** `,"model":..,"model_version":..` */
  head: string;
  /** `"name":` per output (several outputs only). */
  keys: string[];
}

const REQUEST_ID = 'grove-stream';

function num(x: number): string {
  return Number.isFinite(x) ? '' + x : 'null';
}

export class ModelScorer implements Scorer {
  private readonly shapes = new WeakMap<LoadedVersion, ResultShape>();

  constructor(private readonly o: ModelScorerOptions) {}

  score(batch: readonly StreamMessage[], out: Outcome[]): void | Promise<void> {
    const { router, maxRowBytes } = this.o;
    const stickyName = router.stickyName();
    const rows: StreamRow[] = new Array(batch.length);
    // Usually every row goes to one version; a split spreads them over a few.
    const groups = new Map<LoadedVersion, number[]>();
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i]!;
      let row: StreamRow;
      try {
        row = decodeRow(m, maxRowBytes, stickyName);
      } catch (err) {
        out[i] = { kind: 'dead', id: m.headerId, error: toGroveError(err) };
        continue;
      }
      let v: LoadedVersion;
      try {
        v = router.pick(row.sticky);
      } catch (err) {
        out[i] = { kind: 'retry', error: toGroveError(err) };
        continue;
      }
      rows[i] = row;
      stripMeta(row.row, v.featureIndex, stickyName);
      const g = groups.get(v);
      if (g === undefined) groups.set(v, [i]);
      else g.push(i);
    }
    let pending: Promise<void>[] | null = null;
    for (const [v, idx] of groups) {
      const p = this.scoreGroup(v, idx, rows, out);
      if (p !== undefined) (pending ??= []).push(p);
    }
    if (pending !== null) return Promise.all(pending).then(() => undefined);
  }

  private parse(v: LoadedVersion, idx: readonly number[], rows: readonly StreamRow[]): ParsedRows {
    const instances: unknown[] = new Array(idx.length);
    for (let j = 0; j < idx.length; j++) instances[j] = rows[idx[j]!]!.row;
    return parsePredictRequest({ instances }, v, idx.length, this.o.predictor.inlineRowThreshold);
  }

  private scoreGroup(
    v: LoadedVersion,
    idx: number[],
    rows: StreamRow[],
    out: Outcome[],
  ): Promise<void> | undefined {
    let p: ParsedRows;
    try {
      p = this.parse(v, idx, rows);
    } catch {
      // Some row is bad: find which, one by one, then parse the good ones together again.
      const good: number[] = [];
      for (const i of idx) {
        try {
          this.parse(v, [i], rows);
          good.push(i);
        } catch (err) {
          out[i] = { kind: 'dead', id: rows[i]!.id, error: toGroveError(err) };
        }
      }
      if (good.length === 0) return undefined;
      idx = good;
      p = this.parse(v, idx, rows);
    }
    let ids: string | undefined;
    if (this.o.traceIds) {
      ids = '';
      for (let j = 0; j < idx.length; j++)
        ids += (j === 0 ? '' : ',') + encodeURIComponent(rows[idx[j]!]!.id) + '=1';
    }
    let result: Float64Array | Promise<Float64Array>;
    try {
      result = this.o.predictor.run(v, p, REQUEST_ID, ids);
    } catch (err) {
      return this.predictFailed(v, idx, rows, out, err);
    }
    if (result instanceof Promise) {
      return result.then(
        (o) => this.write(v, idx, rows, o, out),
        (err: unknown) => this.predictFailed(v, idx, rows, out, err),
      );
    }
    // An inline result is a scratch view: written out before anything else runs.
    this.write(v, idx, rows, result, out);
    return undefined;
  }

  /** A row's fault (4xx) is found row by row; anything else is retried. */
  private async predictFailed(
    v: LoadedVersion,
    idx: number[],
    rows: StreamRow[],
    out: Outcome[],
    err: unknown,
  ): Promise<void> {
    const e = toGroveError(err);
    if (e.statusCode >= 500) {
      for (const i of idx) out[i] = { kind: 'retry', error: e };
      return;
    }
    if (idx.length === 1) {
      out[idx[0]!] = { kind: 'dead', id: rows[idx[0]!]!.id, error: e };
      return;
    }
    for (const i of idx) {
      const one = [i];
      try {
        const r = this.o.predictor.run(v, this.parse(v, one, rows), REQUEST_ID, undefined);
        this.write(v, one, rows, r instanceof Promise ? await r : r, out);
      } catch (err1) {
        const e1 = toGroveError(err1);
        out[i] =
          e1.statusCode >= 500 ? { kind: 'retry', error: e1 } : { kind: 'dead', id: rows[i]!.id, error: e1 };
      }
    }
  }

  private write(
    v: LoadedVersion,
    idx: readonly number[],
    rows: StreamRow[],
    o: Float64Array,
    out: Outcome[],
  ): void {
    const shape = this.shapeOf(v);
    const k = v.numOutputs;
    for (let r = 0; r < idx.length; r++) {
      const i = idx[r]!;
      const id = rows[i]!.id;
      let body = '{"id":' + JSON.stringify(id) + shape.head;
      if (k === 1) body += ',"prediction":' + num(o[r]!) + '}';
      else {
        body += ',"outputs":{';
        for (let j = 0; j < k; j++) body += (j === 0 ? '' : ',') + shape.keys[j]! + num(o[r * k + j]!);
        body += '}}';
      }
      out[i] = { kind: 'output', id, body, version: v.version };
    }
  }

  private shapeOf(v: LoadedVersion): ResultShape {
    let s = this.shapes.get(v);
    if (s === undefined) {
      s = {
        head: ',"model":' + JSON.stringify(v.name) + ',"model_version":' + JSON.stringify(v.version),
        keys: v.model.meta.outputNames.map((n) => JSON.stringify(n) + ':'),
      };
      this.shapes.set(v, s);
    }
    return s;
  }
}
