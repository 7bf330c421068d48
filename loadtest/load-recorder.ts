// Collects what a load run observed (per response: status, latency, answering version, user) and
// builds the report. Latencies are kept exactly (a growable Float64Array), so percentiles are exact
// nearest-rank values, not histogram buckets; a 60 s run at 20k req/s holds 1.2M doubles (10 MB).

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface TimelinePoint {
  /** Seconds since the start (the second the response arrived in: 1 = [0, 1)). */
  second: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
}

export interface LoadReport {
  url: string;
  model: string;
  version: string | null;
  protocol: 'v1' | 'v2';
  /** closed-loop: each connection sends its next request when the last one answers; fixed-rate: open loop. */
  mode: 'closed-loop' | 'fixed-rate';
  connections: number;
  rate_target: number | null;
  rows_per_request: number;
  duration_s: number;
  /** Completed responses (any status). */
  requests: number;
  requests_per_sec: number;
  rows_per_sec: number;
  /** Milliseconds; fixed-rate mode measures from each request's intended send time. */
  latency: LatencySummary;
  /** Connection errors and timeouts (no response at all). */
  errors: number;
  timeouts: number;
  non2xx: number;
  status_codes: Record<string, number>;
  /** Responses per answering model version (x-grove-model-version header or body model_version). */
  versions: Record<string, number>;
  /** Responses per worker that served them (the gateway's x-grove-worker header); {} direct. */
  workers: Record<string, number>;
  sticky: { users: number; users_seen: number; users_with_one_version: number } | null;
  /** Failed requests (no response, or a non-2xx one) over all requests sent. */
  error_rate: number;
  /** The first few distinct failures as they came back: status (null: no response) and body. */
  error_samples: ErrorSample[];
  timeline: TimelinePoint[];
}

export interface ErrorSample {
  status: number | null;
  body: string;
}

/** Distinct failures kept for the report (so a run that fails says why), and their length cap. */
export const MAX_ERROR_SAMPLES = 3;
const MAX_SAMPLE_CHARS = 300;

export type ReportMeta = Pick<
  LoadReport,
  'url' | 'model' | 'version' | 'protocol' | 'mode' | 'connections' | 'rate_target' | 'rows_per_request'
>;

/** Nearest-rank percentile of an ascending array (p in [0, 100]); NaN for an empty array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(latencies: Float64Array): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

const round3 = (v: number) => (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : v);

export class LoadRecorder {
  private latency = new Float64Array(1 << 14);
  private second = new Uint32Array(1 << 14);
  private count = 0;
  private readonly errorSeconds: number[] = [];
  private timeoutCount = 0;
  private non2xx = 0;
  private readonly statusCodes = new Map<number, number>();
  private readonly versions = new Map<string, number>();
  private readonly workers = new Map<string, number>();
  private readonly samples: ErrorSample[] = [];
  /** Per sticky user: the first version seen, and whether another one was seen later. */
  private readonly userFirst: Array<string | undefined>;
  private readonly userMixed: Uint8Array;

  constructor(
    private readonly startMs: number,
    readonly stickyUsers = 0,
  ) {
    this.userFirst = new Array(stickyUsers);
    this.userMixed = new Uint8Array(stickyUsers);
  }

  private secondOf(atMs: number): number {
    return Math.max(1, Math.ceil((atMs - this.startMs) / 1000));
  }

  /** One response. `user` is the sticky user index, or -1; `worker` the serving worker, if known. */
  response(
    status: number,
    latencyMs: number,
    version: string | null,
    user: number,
    atMs: number,
    worker: string | null = null,
  ): void {
    if (worker !== null) this.workers.set(worker, (this.workers.get(worker) ?? 0) + 1);
    if (this.count === this.latency.length) {
      const l = new Float64Array(this.count * 2);
      l.set(this.latency);
      this.latency = l;
      const s = new Uint32Array(this.count * 2);
      s.set(this.second);
      this.second = s;
    }
    this.latency[this.count] = latencyMs;
    this.second[this.count] = this.secondOf(atMs);
    this.count++;
    this.statusCodes.set(status, (this.statusCodes.get(status) ?? 0) + 1);
    if (status < 200 || status > 299) this.non2xx++;
    if (version !== null) {
      this.versions.set(version, (this.versions.get(version) ?? 0) + 1);
      if (user >= 0 && user < this.stickyUsers) {
        const first = this.userFirst[user];
        if (first === undefined) this.userFirst[user] = version;
        else if (first !== version) this.userMixed[user] = 1;
      }
    }
  }

  /**
   * What a failed request got back (a non-2xx body, or the error with no response); the first
   * few distinct ones are kept. Cheap once they are: a length check.
   */
  sample(status: number | null, body: string): void {
    if (this.samples.length >= MAX_ERROR_SAMPLES) return;
    const text = body.length > MAX_SAMPLE_CHARS ? `${body.slice(0, MAX_SAMPLE_CHARS)}...` : body;
    for (const s of this.samples) if (s.status === status && s.body === text) return;
    this.samples.push({ status, body: text });
  }

  /** A request that got no response (connection error or timeout). */
  error(atMs: number, timeout = false): void {
    this.errorSeconds.push(this.secondOf(atMs));
    if (timeout) this.timeoutCount++;
  }

  get completed(): number {
    return this.count;
  }
  get errors(): number {
    return this.errorSeconds.length;
  }
  get non2xxCount(): number {
    return this.non2xx;
  }
  versionCounts(): Map<string, number> {
    return this.versions;
  }
  /** p99 of the responses recorded from index `from` on (for the progress line). */
  p99Since(from: number): number {
    return percentile(this.latency.slice(from, this.count).sort(), 99);
  }

  build(meta: ReportMeta, durationS: number): LoadReport {
    const lat = this.latency.subarray(0, this.count);
    const summary = summarize(lat);
    // Whole seconds; responses in a trailing fraction (in-flight ones finishing after the
    // scheduled end) count in the last second rather than forming a misleading near-empty one.
    const seconds = Math.max(1, Math.round(durationS));
    const perSecond: number[][] = Array.from({ length: seconds }, () => []);
    for (let i = 0; i < this.count; i++) perSecond[Math.min(seconds, this.second[i]!) - 1]!.push(lat[i]!);
    const errorsPerSecond = new Array<number>(seconds).fill(0);
    for (const s of this.errorSeconds) errorsPerSecond[Math.min(seconds, s) - 1]!++;
    const timeline = perSecond.map((values, i) => {
      const sorted = Float64Array.from(values).sort();
      return {
        second: i + 1,
        requests: values.length,
        errors: errorsPerSecond[i]!,
        p50: round3(percentile(sorted, 50)),
        p99: round3(percentile(sorted, 99)),
      };
    });
    let seen = 0;
    let single = 0;
    for (let u = 0; u < this.stickyUsers; u++) {
      if (this.userFirst[u] === undefined) continue;
      seen++;
      if (this.userMixed[u] === 0) single++;
    }
    const rps = durationS > 0 ? this.count / durationS : 0;
    const sent = this.count + this.errorSeconds.length;
    const failed = this.non2xx + this.errorSeconds.length;
    return {
      ...meta,
      duration_s: round3(durationS),
      requests: this.count,
      requests_per_sec: Math.round(rps * 10) / 10,
      rows_per_sec: Math.round(rps * meta.rows_per_request * 10) / 10,
      latency: {
        p50: round3(summary.p50),
        p90: round3(summary.p90),
        p99: round3(summary.p99),
        p999: round3(summary.p999),
        max: round3(summary.max),
        mean: round3(summary.mean),
      },
      errors: this.errorSeconds.length,
      timeouts: this.timeoutCount,
      non2xx: this.non2xx,
      status_codes: Object.fromEntries(
        [...this.statusCodes].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]),
      ),
      versions: Object.fromEntries(
        [...this.versions].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true })),
      ),
      workers: Object.fromEntries([...this.workers].sort((a, b) => a[0].localeCompare(b[0]))),
      sticky:
        this.stickyUsers > 0
          ? { users: this.stickyUsers, users_seen: seen, users_with_one_version: single }
          : null,
      // Nothing answered at all is as bad as everything failing.
      error_rate: sent > 0 ? Math.round((failed / sent) * 1e6) / 1e6 : 1,
      error_samples: [...this.samples],
      timeline,
    };
  }
}

/** A response header by name, any case (autocannon keeps the server's raw header names). */
function headerOf(headers: Record<string, unknown>, name: string): string | null {
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === name) {
      const v = headers[key];
      return Array.isArray(v) ? String(v[0]) : String(v);
    }
  }
  return null;
}

/** The worker a gateway forwarded to (x-grove-worker), or null (a worker answering directly). */
export function workerOf(headers: Record<string, unknown>): string | null {
  return headerOf(headers, 'x-grove-worker');
}

/** The answering version: the x-grove-model-version header, else the body's model_version. */
export function versionOf(headers: Record<string, unknown>, body: string | null): string | null {
  const header = headerOf(headers, 'x-grove-model-version');
  if (header !== null) return header;
  if (body) {
    const m = /"model_version"\s*:\s*"?([^",}]+)"?/.exec(body);
    if (m) return m[1]!;
  }
  return null;
}
