// Micro-batching on the gateway, only where it pays: when several requests wait for the same model
// version. Each version has a gate counting its upstream calls in flight (pass-through and merged);
// while fewer than `perWorker x workers` are in flight a request goes straight through, unparsed
// (forwarder.ts). Past that, plain bodies (predict-codec.ts) queue in a lane per row shape and leave
// as one upstream call at the end of the I/O phase (setImmediate: no added timer latency) or at
// the next completion, so under load rows form bigger batches (Triton's dynamic batching without a
// delay) and a worker parses one request for many rows. A merged call that fails as a whole is
// retried once elsewhere (UpstreamCaller); a merged answer that is not 200 (say one client's row is
// invalid) is re-sent per client, so every client gets exactly the answer the worker would give
// its own request.
import type { GroveError } from '../../shared/errors/grove-error.js';
import type { Span } from '../../shared/tracing/tracing.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { WorkerSet } from '../upstream/worker-set.js';
import type { ClientCall } from './client-call.js';
import type { ForwardTracer } from './forward-trace.js';
import { KIND_PREDICT, mergeBody, type RowsPart, type SplitAnswer, splitAnswer } from './predict-codec.js';
import type { ShadowPair } from './shadow.js';
import type { UpstreamAnswer, UpstreamCaller } from './upstream-call.js';

export interface Item {
  /** Null for a shadow copy (its answer is discarded). */
  call: ClientCall | null;
  part: RowsPart;
  /** The client's own request, for the per-client fallback. */
  path: string;
  body: Buffer;
  shadow: ShadowPair | null;
}

export interface CoalescerOptions {
  maxRows: number;
  perWorker: number;
}

/** One client's answer: its slice of a merged answer (text), or a whole answer (passHeaders). */
export type Responder = (item: Item, a: UpstreamAnswer, body: string | Buffer, passHeaders: boolean) => void;
export type Failer = (item: Item, err: GroveError) => void;

const MAX_LANES = 256;

class Lane {
  queue: Item[] = [];
  constructor(
    readonly kind: number,
    readonly path: string,
  ) {}
}

/** A model version's calls in flight and its waiting rows. */
export class Gate {
  inFlight = 0;
  queued = 0;
  scheduled = false;
  readonly lanes = new Map<string, Lane>();
  constructor(
    readonly model: string,
    readonly version: string,
  ) {}
}

export class Coalescer {
  private readonly gates = new Map<string, Gate>();
  /** Spans for merged calls (tracing on), else null. */
  tracer: ForwardTracer | null = null;

  constructor(
    private readonly caller: UpstreamCaller,
    private readonly workers: WorkerSet,
    private readonly metrics: GatewayMetrics,
    private readonly opts: CoalescerOptions,
    private readonly respond: Responder,
    private readonly failItem: Failer,
  ) {}

  gate(model: string, version: string): Gate {
    const key = `${model}\u0000${version}`;
    let g = this.gates.get(key);
    if (g === undefined) this.gates.set(key, (g = new Gate(model, version)));
    return g;
  }

  /** Calls of one version in flight before its requests wait and merge (0 per worker: never). */
  private limit(): number {
    if (this.opts.perWorker <= 0) return Number.POSITIVE_INFINITY;
    return Math.max(1, this.opts.perWorker * this.workers.all.length);
  }

  /** Whether requests already wait for this version: then a plain body should join them. */
  contended(g: Gate): boolean {
    return g.queued > 0 || g.inFlight >= this.limit();
  }

  /** A pass-through call of this version left / ended. */
  started(g: Gate): void {
    g.inFlight++;
  }

  ended(g: Gate): void {
    g.inFlight--;
    this.schedule(g);
  }

  enqueue(g: Gate, item: Item): void {
    const p = item.part;
    const key = `${p.kind}\u0000${p.shape}`;
    let lane = g.lanes.get(key);
    if (lane === undefined) {
      // Lanes are keyed by client-chosen shapes too: drop idle ones before the map grows large.
      if (g.lanes.size >= MAX_LANES)
        for (const [k, l] of g.lanes) if (l.queue.length === 0) g.lanes.delete(k);
      const m = encodeURIComponent(g.model);
      const path =
        p.kind === KIND_PREDICT
          ? `/v1/models/${m}/versions/${g.version}:predict`
          : `/v2/models/${m}/versions/${g.version}/infer`;
      g.lanes.set(key, (lane = new Lane(p.kind, path)));
    }
    lane.queue.push(item);
    g.queued++;
    this.schedule(g);
  }

  private schedule(g: Gate): void {
    if (g.queued > 0 && !g.scheduled) {
      g.scheduled = true;
      setImmediate(flushGate, this, g);
    }
  }

  flush(g: Gate): void {
    g.scheduled = false;
    const limit = this.limit();
    while (g.queued > 0 && g.inFlight < limit) {
      for (const lane of g.lanes.values()) {
        if (lane.queue.length > 0) this.take(g, lane);
        if (g.inFlight >= limit || g.queued === 0) break;
      }
    }
  }

  /** Sends the next batch of a lane (clients already answered, e.g. past their deadline, are dropped). */
  private take(g: Gate, lane: Lane): void {
    const q = lane.queue;
    const items: Item[] = [];
    let rows = 0;
    let n = 0;
    while (n < q.length) {
      const it = q[n]!;
      if (it.call?.finished) {
        n++;
        continue;
      }
      if (items.length > 0 && rows + it.part.rows > this.opts.maxRows) break;
      items.push(it);
      rows += it.part.rows;
      n++;
    }
    lane.queue = n === q.length ? [] : q.slice(n);
    g.queued -= n;
    if (items.length > 0) this.send(g, lane, items, rows);
  }

  private send(g: Gate, lane: Lane, items: Item[], rows: number): void {
    g.inFlight++;
    this.metrics.batchRows.observe(rows);
    const first = items[0]!;
    let headers = ['content-type', 'application/json', 'x-request-id', idOf(first)];
    // Merged calls tell the worker which client owns which rows (`id=rows,...`, ids URI-encoded,
    // in row order), so its prediction log keeps one record per client request id (ab-report joins on it).
    if (items.length > 1) {
      let ids = '';
      for (const it of items)
        ids += `${ids === '' ? '' : ','}${encodeURIComponent(idOf(it))}=${it.part.rows}`;
      headers.push('x-grove-request-ids', ids);
    }
    const body = Buffer.from(
      mergeBody(
        items.map((i) => i.part),
        rows,
      ),
    );
    const tr = this.tracer;
    let span: Span | null = null;
    if (tr !== null) {
      const f = tr.forward(
        items.map((i) => i.call),
        g.model,
        g.version,
        rows,
        headers,
      );
      headers = f.headers;
      span = f.span;
    }
    this.caller.call(
      {
        target: { model: g.model, version: g.version },
        method: 'POST',
        path: lane.path,
        headers,
        body,
        weight: rows,
        abandoned: () => items.every((i) => i.call?.finished === true),
      },
      (err, a) => {
        if (span !== null) tr!.forwarded(span, a === null ? 0 : a.status, err === null ? null : err.message);
        g.inFlight--;
        if (err !== null) for (const it of items) this.failItem(it, err);
        else this.answered(g, lane, items, rows, a!);
        this.schedule(g);
      },
    );
  }

  private answered(g: Gate, lane: Lane, items: Item[], rows: number, a: UpstreamAnswer): void {
    let split: SplitAnswer | null = null;
    if (a.status === 200) split = splitAnswer(lane.kind, a.body.toString('utf8'), rows);
    if (!split) {
      if (items.length === 1) {
        const it = items[0]!;
        it.shadow?.set(it.call ? 'served' : 'shadow', null);
        if (it.call) this.respond(it, a, a.body, true);
        return;
      }
      for (const it of items) this.single(g, lane, it);
      return;
    }
    let off = 0;
    for (const it of items) {
      const n = it.part.rows;
      if (it.shadow) it.shadow.set(it.call ? 'served' : 'shadow', split.values(off, n));
      if (it.call) this.respond(it, a, split.slice(off, n, it.part.id), false);
      off += n;
    }
  }

  /** Re-sends one client's own request (after its merged call was refused as a whole). */
  private single(g: Gate, lane: Lane, it: Item): void {
    let headers = ['content-type', 'application/json', 'x-request-id', idOf(it)];
    const tr = this.tracer;
    let span: Span | null = null;
    if (tr !== null) {
      const f = tr.forward([it.call], g.model, g.version, it.part.rows, headers);
      headers = f.headers;
      span = f.span;
    }
    this.caller.call(
      {
        target: { model: g.model, version: g.version },
        method: 'POST',
        path: it.path,
        headers,
        body: it.body,
        weight: it.part.rows,
        abandoned: it.call === null ? null : () => it.call!.finished,
      },
      (err, a) => {
        if (span !== null) tr!.forwarded(span, a === null ? 0 : a.status, err === null ? null : err.message);
        if (err !== null) {
          this.failItem(it, err);
          return;
        }
        if (it.shadow) {
          const s = a!.status === 200 ? splitAnswer(lane.kind, a!.body.toString('utf8'), it.part.rows) : null;
          it.shadow.set(it.call ? 'served' : 'shadow', s ? s.values(0, it.part.rows) : null);
        }
        if (it.call) this.respond(it, a!, a!.body, true);
      },
    );
  }
}

function idOf(it: Item): string {
  return it.call?.requestId ?? it.shadow?.requestId ?? '';
}

function flushGate(c: Coalescer, g: Gate): void {
  c.flush(g);
}
