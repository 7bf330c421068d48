import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GroveError } from '../shared/errors/grove-error.js';
import type { StreamMessage } from './engine/stream-engine.js';
import {
  backoffMs,
  type Outcome,
  type Scorer,
  ScoringLoop,
  type ScoringLoopOptions,
} from './scoring-loop.js';
import { MemoryEngine } from './testing/memory-engine.js';

const logger = pino({ level: 'silent' });

/** Echoes the body as the result; "bad" is dead-lettered, "later" retried, "throw" throws. */
const echo: Scorer = {
  score(batch: readonly StreamMessage[], out: Outcome[]) {
    batch.forEach((m, i) => {
      const text = Buffer.from(m.body).toString();
      if (text === 'throw') throw new Error('scorer bug');
      if (text === 'bad')
        out[i] = { kind: 'dead', id: m.headerId, error: new GroveError('bad row', 'GROVE_ERR_BAD_INPUT') };
      else if (text === 'later')
        out[i] = { kind: 'retry', error: new GroveError('no version', 'GROVE_ERR_MODEL_UNAVAILABLE') };
      else out[i] = { kind: 'output', id: m.headerId!, body: text, version: '1' };
    });
  },
};

function loopOf(engine: MemoryEngine, o: Partial<ScoringLoopOptions> = {}): ScoringLoop {
  return new ScoringLoop({
    engine,
    scorer: echo,
    outputSubject: 'out',
    deadLetterSubject: 'out.errors',
    batch: 4,
    maxInflight: 100,
    maxDeliver: 3,
    logger,
    ...o,
  });
}

describe('ScoringLoop', () => {
  it('publishes each result under the input id and acks the input only after the publish is confirmed', async () => {
    const engine = new MemoryEngine();
    engine.holdPublishes();
    const loop = loopOf(engine);
    const running = loop.run();
    const a = engine.push('{"x":1}', { id: 'a' });
    const b = engine.push('{"x":2}', { id: 'b' });
    await engine.publishedCount(2);
    expect(engine.acked).toEqual([]);
    expect(engine.held!.map((h) => [h.m.subject, h.m.id, h.m.body])).toEqual([
      ['out', 'a', '{"x":1}'],
      ['out', 'b', '{"x":2}'],
    ]);
    engine.held![1]!.resolve();
    await new Promise((r) => setImmediate(r));
    expect(engine.acked).toEqual([b]);
    engine.held![0]!.resolve();
    loop.stop();
    await running;
    expect(engine.acked).toEqual([b, a]);
  });

  it('a failed publish leaves the input unacknowledged and hands it back for redelivery', async () => {
    const engine = new MemoryEngine();
    engine.holdPublishes();
    const loop = loopOf(engine);
    const running = loop.run();
    const a = engine.push('r', { id: 'a', deliveries: 2 });
    await engine.publishedCount(1);
    engine.held![0]!.reject(new Error('no PubAck'));
    loop.stop();
    await running;
    expect(engine.acked).toEqual([]);
    expect(engine.retried).toEqual([{ m: a, delayMs: backoffMs(2) }]);
  });

  it('stops pulling while maxInflight results wait for confirmation (back-pressure)', async () => {
    const engine = new MemoryEngine();
    engine.holdPublishes();
    const loop = loopOf(engine, { batch: 2, maxInflight: 3 });
    const running = loop.run();
    for (let i = 0; i < 10; i++) engine.push(`r${i}`, { id: `id${i}` });
    await engine.publishedCount(4);
    // Two batches of two are in flight (4 >= 3): the loop waits instead of asking for more.
    await new Promise((r) => setImmediate(r));
    expect(engine.held!.length).toBe(4);
    const pullsBefore = engine.pulls.length;
    await new Promise((r) => setImmediate(r));
    expect(engine.pulls.length).toBe(pullsBefore);
    engine.held![0]!.resolve();
    engine.held![1]!.resolve();
    await engine.publishedCount(6);
    expect(engine.held!.length).toBe(6);
    for (const h of engine.held!) h.resolve();
    engine.held = null;
    await engine.publishedCount(10);
    loop.stop();
    await running;
    expect(engine.published.map((p) => p.id).sort()).toEqual(
      [...Array(10).keys()].map((i) => `id${i}`).sort(),
    );
    expect(engine.acked.length).toBe(10);
  });

  it('dead-letters a bad message with its code and acks it; retries a transient failure', async () => {
    const engine = new MemoryEngine();
    const loop = loopOf(engine);
    const running = loop.run();
    const bad = engine.push('bad', { id: 'b1' });
    const later = engine.push('later', { id: 'l1' });
    await engine.publishedCount(1);
    loop.stop();
    await running;
    expect(engine.published).toEqual([
      {
        subject: 'out.errors',
        id: 'dead:rows:1',
        body: JSON.stringify({
          id: 'b1',
          code: 'GROVE_ERR_BAD_INPUT',
          error: 'bad row',
          source: 'rows.test',
          position: 'rows:1',
          deliveries: 1,
        }),
      },
    ]);
    expect(engine.acked).toEqual([bad]);
    expect(engine.retried).toEqual([{ m: later, delayMs: 1000 }]);
  });

  it('a retry on the last allowed delivery becomes a dead letter; a message over the limit is not scored', async () => {
    const engine = new MemoryEngine();
    const loop = loopOf(engine, { maxDeliver: 3 });
    const running = loop.run();
    engine.push('later', { id: 'l', deliveries: 3 });
    engine.push('throw', { id: 'poison', deliveries: 4 });
    await engine.publishedCount(2);
    loop.stop();
    await running;
    const codes = engine.published.map((p) => [p.subject, JSON.parse(p.body).id, JSON.parse(p.body).code]);
    expect(codes).toEqual([
      ['out.errors', 'l', 'GROVE_ERR_MODEL_UNAVAILABLE'],
      ['out.errors', 'poison', 'GROVE_ERR_STREAM_REDELIVERED'],
    ]);
    expect(engine.acked.length).toBe(2);
    expect(engine.retried).toEqual([]);
  });

  it('a scorer that throws turns its batch into retries; the loop keeps going', async () => {
    const engine = new MemoryEngine();
    const loop = loopOf(engine, { batch: 1 });
    const running = loop.run();
    const t = engine.push('throw', { id: 't' });
    engine.push('ok', { id: 'ok' });
    await engine.publishedCount(1);
    loop.stop();
    await running;
    expect(engine.retried.map((r) => r.m)).toEqual([t]);
    expect(engine.published.map((p) => p.id)).toEqual(['ok']);
  });

  it('a duplicate result (a redelivered input) is still acked and reported as a duplicate', async () => {
    const engine = new MemoryEngine();
    const seen: Array<[string, boolean]> = [];
    const loop = loopOf(engine, {
      events: {
        received() {},
        published: (v, d) => seen.push([v, d]),
        deadLettered() {},
        retried() {},
        publishFailed() {},
        batchDone() {},
      },
    });
    const running = loop.run();
    engine.push('x', { id: 'same' });
    engine.push('x', { id: 'same', deliveries: 2 });
    await engine.publishedCount(1);
    while (engine.acked.length < 2) await new Promise((r) => setImmediate(r));
    loop.stop();
    await running;
    expect(engine.published.length).toBe(1);
    expect(seen).toEqual([
      ['1', false],
      ['1', true],
    ]);
  });
});
