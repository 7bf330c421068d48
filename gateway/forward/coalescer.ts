// Micro-batching on the gateway: one-row requests that arrive together for the same model version
// (and row shape) leave as one upstream call, so a worker parses one HTTP request per many rows
// (docs/architecture.md, Targets: a Node proxy must not make Node parse every request twice). A lane
// flushes at the end of the current I/O phase (setImmediate: no added timer latency), or at once
// when full; while `perWorker x workers` calls of a lane are in flight, new rows wait for the next
// completion and so form bigger batches under load (Triton's dynamic batching without a delay).
// A merged call that fails as a whole is retried once elsewhere (UpstreamCaller); a merged answer
// that is not 200 (say one client's row is invalid) is re-sent per client, so every client gets
// exactly the answer the worker would give its own request.
import { toGroveError } from '../../shared/errors/grove-error.js';
import type { Reply } from '../../shared/http/reply.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { WorkerSet } from '../upstream/worker-set.js';
import {
  KIND_PREDICT,
  maxAbsDiff,
  mergeBody,
  type RowsPart,
  type SplitAnswer,
  splitAnswer,
} from './predict-codec.js';
import type { UpstreamAnswer, UpstreamCaller } from './upstream-call.js';

/** Pairs a served row set with its shadow copy; the diff is recorded when both are known. */
export class ShadowPair {
  served: unknown[] | null = null;
  shadow: unknown[] | null = null;
  constructor(
    readonly model: string,
    readonly version: string,
    readonly shadowVersion: string,
    private readonly metrics: GatewayMetrics,
  ) {}
  set(which: 'served' | 'shadow', values: unknown[] | null): void {
    if (values === null) {
      this.metrics.shadowRequests.inc({
        model: this.model,
        version: this.version,
        shadow_version: this.shadowVersion,
        outcome: which === 'shadow' ? 'error' : 'served_error',
      });
      this.served = this.shadow = null;
      return;
    }
    this[which] = values;
    if (this.served && this.shadow) {
      this.metrics.shadowRequests.inc({
        model: this.model,
        version: this.version,
        shadow_version: this.shadowVersion,
        outcome: 'ok',
      });
      this.metrics.shadowDiff.observe(
        { model: this.model, version: this.version, shadow_version: this.shadowVersion },
        maxAbsDiff(this.served, this.shadow),
      );
    }
  }
}

export interface Item {
  part: RowsPart;
  /** Null for a shadow copy (its answer is discarded). */
  res: Reply | null;
  requestId: string;
  start: number;
  /** The client's own request, for the per-client fallback. */
  path: string;
  body: Buffer;
  shadow: ShadowPair | null;
}

export interface CoalescerOptions {
  maxRows: number;
  perWorker: number;
}

export type Responder = (
  item: Item,
  model: string,
  version: string,
  a: UpstreamAnswer,
  body: string | Buffer,
) => void;
export type Failer = (item: Item, model: string, version: string, err: unknown) => void;

const MAX_LANES = 1024;

class Lane {
  queue: Item[] = [];
  rows = 0;
  inFlight = 0;
  scheduled = false;
  constructor(
    readonly model: string,
    readonly version: string,
    readonly kind: number,
    readonly path: string,
  ) {}
}

export class Coalescer {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly caller: UpstreamCaller,
    private readonly workers: WorkerSet,
    private readonly metrics: GatewayMetrics,
    private readonly opts: CoalescerOptions,
    private readonly respond: Responder,
    private readonly failItem: Failer,
  ) {}

  enqueue(model: string, version: string, item: Item): void {
    const key = `${item.part.kind}\u0000${model}\u0000${version}\u0000${item.part.shape}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      const m = encodeURIComponent(model);
      const path =
        item.part.kind === KIND_PREDICT
          ? `/v1/models/${m}/versions/${version}:predict`
          : `/v2/models/${m}/versions/${version}/infer`;
      lane = new Lane(model, version, item.part.kind, path);
      // Lanes are keyed by client-chosen shapes too: drop idle ones before the map grows large.
      if (this.lanes.size >= MAX_LANES) {
        for (const [k, l] of this.lanes)
          if (l.queue.length === 0 && l.inFlight === 0 && !l.scheduled) this.lanes.delete(k);
      }
      this.lanes.set(key, lane);
    }
    lane.queue.push(item);
    lane.rows += item.part.rows;
    if (!lane.scheduled) {
      lane.scheduled = true;
      setImmediate(flushLane, this, lane);
    }
  }

  flush(lane: Lane): void {
    lane.scheduled = false;
    const limit = Math.max(1, this.opts.perWorker * this.workers.all.length);
    while (lane.queue.length > 0 && lane.inFlight < limit) {
      let rows = 0;
      let n = 0;
      const q = lane.queue;
      while (n < q.length && (n === 0 || rows + q[n]!.part.rows <= this.opts.maxRows))
        rows += q[n++]!.part.rows;
      const items = n === q.length ? q : q.slice(0, n);
      lane.queue = n === q.length ? [] : q.slice(n);
      lane.rows -= rows;
      this.send(lane, items, rows);
    }
  }

  private send(lane: Lane, items: Item[], rows: number): void {
    lane.inFlight++;
    this.metrics.batchRows.observe(rows);
    const parts = items.map((i) => i.part);
    const body = mergeBody(parts, rows);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-request-id': items[0]!.requestId,
    };
    // Merged calls tell the worker which client owns which rows (`id=rows,...`, ids URI-encoded,
    // in row order), so its prediction log keeps one record per client request id (ab-report joins on it).
    if (items.length > 1)
      headers['x-grove-request-ids'] = items
        .map((i) => `${encodeURIComponent(i.requestId)}=${i.part.rows}`)
        .join(',');
    this.caller
      .call({ model: lane.model, version: lane.version }, 'POST', lane.path, headers, body, rows)
      .then(
        (a) => this.answered(lane, items, rows, a),
        (err) => {
          for (const it of items) this.failItem(it, lane.model, lane.version, err);
        },
      )
      .catch((err) => {
        for (const it of items)
          if (it.res && !it.res.done) this.failItem(it, lane.model, lane.version, toGroveError(err));
      })
      .finally(() => {
        lane.inFlight--;
        if (lane.queue.length > 0 && !lane.scheduled) {
          lane.scheduled = true;
          setImmediate(flushLane, this, lane);
        }
      });
  }

  private answered(lane: Lane, items: Item[], rows: number, a: UpstreamAnswer): void {
    let split: SplitAnswer | null = null;
    if (a.status === 200) split = splitAnswer(lane.kind, a.body.toString('utf8'), rows);
    if (!split) {
      if (items.length === 1) {
        const it = items[0]!;
        it.shadow?.set(it.res ? 'served' : 'shadow', null);
        if (it.res) this.respond(it, lane.model, lane.version, a, a.body);
        return;
      }
      for (const it of items) this.single(lane, it);
      return;
    }
    let off = 0;
    for (const it of items) {
      const n = it.part.rows;
      if (it.shadow) it.shadow.set(it.res ? 'served' : 'shadow', split.values(off, n));
      if (it.res) this.respond(it, lane.model, lane.version, a, split.slice(off, n, it.part.id));
      off += n;
    }
  }

  /** Re-sends one client's own request (after its merged call was refused as a whole). */
  private single(lane: Lane, it: Item): void {
    this.caller
      .call(
        { model: lane.model, version: lane.version },
        'POST',
        it.path,
        { 'content-type': 'application/json', 'x-request-id': it.requestId },
        it.body,
        it.part.rows,
      )
      .then(
        (a) => {
          if (it.shadow) {
            const s = a.status === 200 ? splitAnswer(lane.kind, a.body.toString('utf8'), it.part.rows) : null;
            it.shadow.set(it.res ? 'served' : 'shadow', s ? s.values(0, it.part.rows) : null);
          }
          if (it.res) this.respond(it, lane.model, lane.version, a, a.body);
        },
        (err) => this.failItem(it, lane.model, lane.version, err),
      );
  }
}

function flushLane(c: Coalescer, lane: Lane): void {
  c.flush(lane);
}
