// A pool thread: rebuilds each registered model from its SharedArrayBuffer once (modelFromBuffer,
// no copy) and runs tasks against it: predict shared-memory rows, compute their contributions
// (each thread builds a model's explainer once), and parse + predict + format a chunk of a
// streamed batch.
import { BroadcastChannel, workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { formatCsvRows } from '../../shared/csv/csv-format.js';
import { csvDenseRows } from '../../shared/csv/feature-columns.js';
import { GroveError, UnknownFeatureError } from '../../shared/errors/grove-error.js';
import { explainerFor } from '../../shared/runtime/explain/index.js';
import { modelFromBuffer } from '../../shared/runtime/load.js';
import type { Model } from '../../shared/runtime/model.js';
import { chunkLines, formatNdjson, parseNdjsonRows } from '../batch/batch-text.js';
import type {
  BatchResult,
  BatchTask,
  ChannelMessage,
  ContributionsTask,
  PoolTask,
  PredictNamedTask,
  PredictTask,
  TaskFailure,
} from './pool-messages.js';

interface Registered {
  model: Model;
  featureIndex: Map<string, number>;
}

const models = new Map<string, Registered>();
const waiting = new Map<string, Array<() => void>>();

const channel = new BroadcastChannel((workerData as { channel: string }).channel);
channel.onmessage = (ev: unknown) => {
  const m = (ev as { data: ChannelMessage }).data;
  if (m.type === 'register') {
    if (models.has(m.key)) return;
    models.set(m.key, {
      model: modelFromBuffer(m.buffer),
      featureIndex: new Map(m.featureNames.map((n, i) => [n, i])),
    });
    const w = waiting.get(m.key);
    if (w) {
      waiting.delete(m.key);
      for (const f of w) f();
    }
  } else if (m.type === 'unregister') {
    models.delete(m.key);
  }
};
(channel as unknown as { unref?: () => void }).unref?.();
channel.postMessage({ type: 'hello' } satisfies ChannelMessage);

/** A task can overtake its registration (they travel on different ports): wait for it briefly. */
async function registered(key: string): Promise<Registered> {
  const r = models.get(key);
  if (r) return r;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new GroveError(`model ${key} is not registered in the pool`, 'GROVE_ERR_POOL')),
      5000,
    );
    const list = waiting.get(key) ?? [];
    list.push(() => {
      clearTimeout(t);
      resolve();
    });
    waiting.set(key, list);
  });
  return models.get(key)!;
}

// Predict tasks answer when the thread started on them (epoch milliseconds): the request's
// `queue` span ends and its `predict` span begins there (shared/tracing).
async function predict(t: PredictTask): Promise<number> {
  const { model } = await registered(t.key);
  const started = performance.timeOrigin + performance.now();
  model.predict(t.input, t.rows, t.out, t.raw);
  return started;
}

async function predictNamed(t: PredictNamedTask): Promise<number> {
  const { model } = await registered(t.key);
  const started = performance.timeOrigin + performance.now();
  model.predictNamed(t.rows, t.out, t.raw);
  return started;
}

async function contributions(t: ContributionsTask): Promise<number> {
  const { model } = await registered(t.key);
  explainerFor(model).contributions(t.input, t.rows, t.out);
  return t.rows;
}

async function batch(t: BatchTask): Promise<BatchResult> {
  const { model, featureIndex } = await registered(t.key);
  const meta = model.meta;
  const numOut = t.raw ? meta.rawOutputNames.length : meta.outputNames.length;
  let input: Float64Array | null = null;
  let named: Record<string, unknown>[] | null = null;
  let rows: number;
  if (t.format === 'csv') {
    const text =
      typeof t.text === 'string' ? t.text : Buffer.from(t.text.buffer, t.text.byteOffset, t.text.length);
    const dense = csvDenseRows(text, t.firstLine, t.header!, t.columns!, meta.numFeatures);
    input = dense.data;
    rows = dense.rows;
  } else {
    const parsed = parseNdjsonRows(
      chunkLines(t.text as string),
      featureIndex,
      meta.numFeatures,
      meta.sparse,
      t.firstLine,
    );
    input = parsed.input;
    named = parsed.named;
    rows = parsed.rows;
  }
  const out = new Float64Array(rows * numOut);
  if (rows > 0) {
    if (input !== null) model.predict(input, rows, out, t.raw);
    else model.predictNamed(named!, out, t.raw);
  }
  const text = t.format === 'csv' ? formatCsvRows(out, rows, numOut) : formatNdjson(out, rows, t.outputNames);
  if (!t.wantInput) return { text, rows, input: null, named: null, out: null };
  return moved({ text, rows, input, named, out }, input === null ? [out.buffer] : [input.buffer, out.buffer]);
}

/**
 * Piscina transfers only a result that is itself moved: a `move()` nested inside a result object
 * arrives as an empty object (structured clone drops its symbol-keyed fields), which left the
 * observers of a batch without its rows. So the whole result is moved, its arrays' (fresh, unshared)
 * buffers in the transfer list.
 */
function moved(r: BatchResult, buffers: ArrayBufferLike[]): BatchResult {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: r } as never) as unknown as BatchResult;
}

function failure(err: unknown): TaskFailure {
  if (err instanceof GroveError) {
    const f: TaskFailure = { failed: true, message: err.message, code: err.code, statusCode: err.statusCode };
    if (err instanceof UnknownFeatureError) {
      f.features = err.features;
      f.expected = err.expected;
    }
    return f;
  }
  const message = err instanceof Error ? err.message : String(err);
  return { failed: true, message, code: 'GROVE_ERR_INTERNAL', statusCode: 500 };
}

export default async function run(task: PoolTask): Promise<unknown> {
  try {
    switch (task.op) {
      case 'predict':
        return await predict(task);
      case 'predict-named':
        return await predictNamed(task);
      case 'batch':
        return await batch(task);
      case 'contributions':
        return await contributions(task);
    }
  } catch (err) {
    return failure(err);
  }
}
