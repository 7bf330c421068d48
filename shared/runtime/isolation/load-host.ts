// A load host: a child process that loads model files for a serving process (model-loader.ts),
// one at a time, each in a worker thread (load-thread.ts) started with V8 resourceLimits and given
// a deadline. A load past its deadline is stopped by terminating the thread; a thread that runs
// out of heap ends with ERR_WORKER_OUT_OF_MEMORY; either way the host answers with the limit's
// code and starts a fresh thread for the next load. What a thread cannot survive (a V8 fatal
// error such as "invalid size") ends this process, never the one that asked: the parent sees the
// exit and reports the load as crashed. The model's container is copied into the reply: processes
// share no memory, and the parent checks the copy again before it serves it.
import { Worker } from 'node:worker_threads';
import { builtSibling } from '../../runtime-path.js';
import type { LoadReply, LoadRequest, ThreadReady, ThreadReply } from './load-messages.js';

interface Running {
  request: LoadRequest;
  /** The deadline, set once the thread is ready to load (its start-up is not the file's cost). */
  timer: NodeJS.Timeout | null;
}

let thread: Worker | null = null;
let threadReady = false;
let threadHeapMb = 0;
let running: Running | null = null;

function reply(r: LoadReply): void {
  if (process.connected) process.send!(r);
}

function fail(code: string, message: string): void {
  const r = running;
  if (!r) return;
  if (r.timer) clearTimeout(r.timer);
  running = null;
  reply({ id: r.request.id, ok: false, code, message });
}

function dropThread(): void {
  const t = thread;
  thread = null;
  threadReady = false;
  if (t) void t.terminate();
}

function startThread(heapMb: number): Worker {
  const t = new Worker(builtSibling(import.meta.url, 'load-thread.js'), {
    resourceLimits: { maxOldGenerationSizeMb: heapMb },
    stdout: false,
    stderr: false,
  });
  t.on('message', (m: ThreadReply | ThreadReady) => {
    if ('ready' in m) {
      if (thread !== t) return;
      threadReady = true;
      if (running) begin(running);
      return;
    }
    const r = running;
    if (!r || m.id !== r.request.id) return;
    if (r.timer) clearTimeout(r.timer);
    running = null;
    if (!m.ok) {
      reply({ id: m.id, ok: false, code: m.code, message: m.message });
      return;
    }
    // A copy outside shared memory: IPC cannot carry a SharedArrayBuffer to another process.
    const bytes = new Uint8Array(m.buffer.byteLength);
    bytes.set(new Uint8Array(m.buffer));
    reply({ id: m.id, ok: true, bytes, sha256: m.sha256 });
  });
  // Events of a thread already replaced (terminated at a deadline) concern no current load.
  t.on('error', (err: Error & { code?: string }) => {
    if (thread !== t) return;
    thread = null;
    if (err.code === 'ERR_WORKER_OUT_OF_MEMORY')
      fail(
        'GROVE_ERR_LOAD_MEMORY',
        `the load needed more than the ${threadHeapMb} MB heap limit (--load-memory)`,
      );
    else fail('GROVE_ERR_LOAD_CRASHED', `the load thread failed (${err.code ?? err.name})`);
  });
  t.on('exit', () => {
    if (thread !== t) return;
    thread = null;
    fail('GROVE_ERR_LOAD_CRASHED', 'the load thread stopped');
  });
  t.unref();
  return t;
}

/** Hands the running load to the ready thread and starts its deadline. */
function begin(r: Running): void {
  const { request } = r;
  r.timer = setTimeout(() => {
    dropThread();
    const s = request.timeoutMs / 1000;
    fail('GROVE_ERR_LOAD_TIMEOUT', `the load took longer than the ${s} s deadline (--load-timeout)`);
  }, request.timeoutMs);
  thread!.postMessage(request);
}

function start(request: LoadRequest): void {
  if (running) {
    reply({ id: request.id, ok: false, code: 'GROVE_ERR_INTERNAL', message: 'load host is busy' });
    return;
  }
  if (thread && threadHeapMb !== request.heapMb) dropThread();
  if (!thread) {
    threadHeapMb = request.heapMb;
    thread = startThread(request.heapMb);
  }
  running = { request, timer: null };
  if (threadReady) begin(running);
}

process.on('message', (m: LoadRequest) => start(m));
// A warm host has a warm thread: its parent names the heap limit loads will ask for.
const firstHeapMb = Number(process.argv[2]);
if (firstHeapMb > 0) {
  threadHeapMb = firstHeapMb;
  thread = startThread(firstHeapMb);
}
// The serving process went away (or closed us): nothing left to load for.
process.on('disconnect', () => process.exit(0));
