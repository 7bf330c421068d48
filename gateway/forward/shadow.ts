// Shadow traffic (docs/ab-testing.md): a fraction of a split model's coalescable requests is also
// sent to a shadow version; its answer is discarded and the difference from the served answer is
// recorded (grove_gateway_shadow_prediction_diff, grove_gateway_shadow_requests_total{outcome}).
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { maxAbsDiff } from './predict-codec.js';

/** Pairs a served row set with its shadow copy; the diff is recorded when both are known. */
export class ShadowPair {
  served: unknown[] | null = null;
  shadow: unknown[] | null = null;
  constructor(
    readonly model: string,
    readonly version: string,
    readonly shadowVersion: string,
    /** The client's request id, which the shadow copy carries too. */
    readonly requestId: string,
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
