// One client request on its way through the gateway: where its answer goes, its id, when it came,
// the model version chosen for it, and what must be released when it is answered (its admission
// slot, its deadline timer). Every path (pass-through, coalesced, shadowed) ends it through
// Forwarder.finish exactly once.
import type { Reply } from '../../shared/http/reply.js';
import type { RequestTrace } from '../../shared/tracing/tracing.js';

export class ClientCall {
  model = '';
  /** The version chosen for it ('' until chosen). */
  version = '';
  /** performance.now() at arrival. */
  readonly start = performance.now();
  /** Answered (or given up on): late answers are dropped. */
  finished = false;
  /** Holds an admission slot (released when finished). */
  admitted = false;
  deadlineTimer: NodeJS.Timeout | null = null;
  /** Its spans when tracing is on (forward-trace.ts), else null. */
  trace: RequestTrace | null = null;
  /** The client's traceparent: its trace id goes into the access log even when tracing is off. */
  traceparent: string | string[] | undefined = undefined;

  constructor(
    readonly reply: Reply,
    readonly requestId: string,
    /** Who is asking, for admission control's per-client share (the peer address). */
    readonly clientKey: string,
  ) {}
}
