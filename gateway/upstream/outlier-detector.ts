// Passive outlier ejection after Envoy's outlier detection
// (envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier): `consecutive` gateway
// failures (5xx or connect errors) in a row eject a worker for base * timesEjected (capped); the
// multiplier decays by one at each `tick` (health-check interval) while the worker stays healthy.
// Time is injected (`now`) so tests drive it.
export interface OutlierOptions {
  consecutive: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
}

export const DEFAULT_OUTLIER: OutlierOptions = {
  consecutive: 3,
  baseEjectionMs: 1000,
  maxEjectionMs: 30_000,
};

export class OutlierState {
  consecutiveFailures = 0;
  timesEjected = 0;
  ejectedUntil = 0;
  ejections = 0;

  constructor(private readonly opts: OutlierOptions = DEFAULT_OUTLIER) {}

  isEjected(now: number): boolean {
    return now < this.ejectedUntil;
  }

  success(): void {
    this.consecutiveFailures = 0;
  }

  /** Records a failure; true when it ejects the worker. `immediate` ejects at once (e.g. the process exited). */
  failure(now: number, immediate = false): boolean {
    this.consecutiveFailures++;
    if (this.isEjected(now)) return false;
    if (!immediate && this.consecutiveFailures < this.opts.consecutive) return false;
    this.timesEjected++;
    this.ejections++;
    this.ejectedUntil = now + Math.min(this.opts.maxEjectionMs, this.opts.baseEjectionMs * this.timesEjected);
    this.consecutiveFailures = 0;
    return true;
  }

  /** Periodic decay of the ejection multiplier while the worker is not ejected. */
  tick(now: number): void {
    if (!this.isEjected(now) && this.consecutiveFailures === 0 && this.timesEjected > 0) this.timesEjected--;
  }
}
