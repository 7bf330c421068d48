// Admission control for the gateway (docs/api.md, Overload): at most `maxInflight` client requests
// in flight in this process (queued for a worker, or being served). Past that a request is refused
// at once rather than queued without bound: 429 GROVE_ERR_OVER_SHARE when its client (the peer
// address) already holds at least an equal share of the slots (maxInflight / clients in flight),
// else 503 GROVE_ERR_OVERLOADED; both with Retry-After. So one heavy client is told to slow down
// while others are told the gateway is full. Per-request deadlines (x-grove-deadline-ms) are read
// here too: work still queued when its deadline passes is dropped, not run.
import { BadInputError, type GroveError, RetryLaterError } from '../../shared/errors/grove-error.js';

/** Longest deadline a client may ask for (an hour). */
const MAX_DEADLINE_MS = 3_600_000;

// The refusals are built once: shedding must cost as little as possible, and capturing a new
// Error's stack was about a tenth of the gateway's CPU while it refused thousands a second.
const OVER_SHARE = new RetryLaterError(
  'this client holds more than its share of the gateway; retry later',
  'GROVE_ERR_OVER_SHARE',
);
const OVERLOADED = new RetryLaterError('the gateway is at capacity; retry later', 'GROVE_ERR_OVERLOADED');

export class Admission {
  inflight = 0;
  private readonly perClient = new Map<string, number>();

  /** 0: no limit. */
  constructor(readonly maxInflight: number) {}

  /** null when admitted (call `release` when answered), else the refusal to answer. */
  admit(client: string): RetryLaterError | null {
    const mine = this.perClient.get(client) ?? 0;
    if (this.maxInflight > 0 && this.inflight >= this.maxInflight) {
      const share = this.maxInflight / Math.max(1, this.perClient.size);
      return mine >= share ? OVER_SHARE : OVERLOADED;
    }
    this.inflight++;
    this.perClient.set(client, mine + 1);
    return null;
  }

  release(client: string): void {
    this.inflight--;
    const n = (this.perClient.get(client) ?? 1) - 1;
    if (n <= 0) this.perClient.delete(client);
    else this.perClient.set(client, n);
  }

  /** Clients with requests in flight. */
  get clients(): number {
    return this.perClient.size;
  }
}

/** The request's deadline in ms from now (x-grove-deadline-ms), 0 for none, or the error for a bad value. */
export function deadlineOf(value: string | string[] | undefined): number | GroveError {
  if (value === undefined) return 0;
  const v = Array.isArray(value) ? value[0]! : value;
  if (/^[0-9]{1,7}$/.test(v)) {
    const n = Number(v);
    if (n >= 1 && n <= MAX_DEADLINE_MS) return n;
  }
  return new BadInputError(
    `x-grove-deadline-ms must be a whole number of milliseconds, 1 to ${MAX_DEADLINE_MS}`,
  );
}
