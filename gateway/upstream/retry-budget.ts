// Envoy-style retry budget (envoyproxy.io, config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget):
// retries in flight may be at most `percent` of active requests, but at least `minConcurrency`, so
// a failing cluster is not hit by a retry storm while a single dead worker is absorbed fully.
export class RetryBudget {
  active = 0;
  retries = 0;
  constructor(
    private readonly percent = 0.2,
    private readonly minConcurrency = 3,
  ) {}

  /** Reserves a retry if the budget allows; call `endRetry` when it completes. */
  tryRetry(): boolean {
    if (this.retries >= Math.max(this.minConcurrency, this.percent * this.active)) return false;
    this.retries++;
    return true;
  }

  endRetry(): void {
    this.retries--;
  }
}
