// All of a worker's version monitors: a PredictionObserver (worker/observer.ts) that routes each
// prediction to its version's monitor (two Map lookups, then the window update), creates monitors
// lazily with the version's profile.json and config.json thresholds, and evaluates alarms on a
// timer and whenever someone reads (monitor route, /metrics). Transitions go to the log (one line
// each way) and to the webhook sender.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorConfigFrom } from '../../shared/monitor/monitor-config.js';
import { watchedOutput } from '../../shared/profile/build-profile.js';
import { parseProfile } from '../../shared/profile/profile-file.js';
import type { Profile } from '../../shared/profile/profile-types.js';
import type { WebhookSender } from '../../shared/webhook/webhook-sender.js';
import type { PredictionEvent, PredictionObserver } from '../observer.js';
import { type AlarmTransition, VersionMonitor } from './version-monitor.js';

/** What the hub needs to know about a served version. */
export interface MonitoredVersion {
  model: string;
  version: string;
  sha256: string;
  dir: string;
  featureNames: readonly string[];
  task: string;
  outputNames: readonly string[];
  /** The model's parsed config.json ({} when absent). */
  config: Record<string, unknown>;
}

export interface HubLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface MonitorHubOptions {
  /** Looks a served version up (null when it is not, or no longer, served). */
  resolve(model: string, version: string): MonitoredVersion | null;
  logger?: HubLogger;
  webhook?: WebhookSender | null;
  /** Alarm evaluation period in ms (default 1000; 0 = only when read). */
  intervalMs?: number;
  now?: () => number;
}

export class MonitorHub implements PredictionObserver {
  private readonly models = new Map<string, Map<string, VersionMonitor | null>>();
  private readonly evaluatedAt = new Map<VersionMonitor, number>();
  private readonly dirs = new WeakMap<VersionMonitor, string>();
  /** mtime of profile.json files found malformed (so they are not re-read every tick). */
  private readonly badProfiles = new Map<string, number>();
  private readonly timer: NodeJS.Timeout | null;
  private readonly now: () => number;
  /** Called with every alarm transition (tests, metrics). */
  onTransition: ((t: AlarmTransition) => void) | null = null;

  constructor(private readonly o: MonitorHubOptions) {
    this.now = o.now ?? Date.now;
    const period = o.intervalMs ?? 1000;
    this.timer = period > 0 ? setInterval(() => this.evaluateAll(), period) : null;
    this.timer?.unref();
  }

  observe(e: PredictionEvent): void {
    let m = this.models.get(e.model)?.get(e.version);
    if (m === undefined || (m !== null && m.sha256 !== e.sha256)) m = this.create(e.model, e.version);
    if (m !== null && m.sha256 === e.sha256) m.observe(e);
  }

  /** The version's monitor (created on first use), or null when the version is not served or not monitored. */
  get(model: string, version: string): VersionMonitor | null {
    const m = this.models.get(model)?.get(version);
    if (m !== undefined) return m;
    return this.create(model, version);
  }

  private create(model: string, version: string): VersionMonitor | null {
    const info = this.o.resolve(model, version);
    let byVersion = this.models.get(model);
    if (!byVersion) {
      byVersion = new Map();
      this.models.set(model, byVersion);
    }
    if (!info) return null; // not cached: the version may appear later
    const config = monitorConfigFrom(info.config);
    if (!config.enabled) {
      byVersion.set(version, null);
      return null;
    }
    const monitor = new VersionMonitor({
      model,
      version,
      sha256: info.sha256,
      featureNames: info.featureNames,
      profile: this.loadProfile(info),
      config,
      outputIndex: watchedOutput(info.task, info.outputNames),
    });
    const old = byVersion.get(version);
    if (old) this.evaluatedAt.delete(old);
    byVersion.set(version, monitor);
    this.dirs.set(monitor, info.dir);
    return monitor;
  }

  /** Read once per version, when its first prediction arrives (a few KB; cheaper than a second code path). */
  private loadProfile(info: MonitoredVersion): Profile | null {
    let text: string;
    try {
      text = readFileSync(join(info.dir, 'profile.json'), 'utf8');
    } catch {
      return null;
    }
    try {
      return parseProfile(text);
    } catch (err) {
      try {
        this.badProfiles.set(info.dir, statSync(join(info.dir, 'profile.json')).mtimeMs);
      } catch {
        // gone again
      }
      this.o.logger?.warn(
        { model: info.model, version: info.version, err: (err as Error).message },
        'profile.json ignored: version served without drift monitoring',
      );
      return null;
    }
  }

  private profileAppeared(dir: string): boolean {
    try {
      const mtime = statSync(join(dir, 'profile.json')).mtimeMs;
      return this.badProfiles.get(dir) !== mtime;
    } catch {
      return false;
    }
  }

  /** Every live monitor (drops the ones whose version is gone). */
  monitors(): VersionMonitor[] {
    const out: VersionMonitor[] = [];
    for (const [model, byVersion] of this.models) {
      for (const [version, m] of byVersion) {
        if (m === null) continue;
        const info = this.o.resolve(model, version);
        if (!info || info.sha256 !== m.sha256) {
          byVersion.delete(version);
          this.evaluatedAt.delete(m);
          continue;
        }
        out.push(m);
      }
    }
    return out;
  }

  /** Evaluates one monitor's alarms if rows arrived since the last time; reports transitions. */
  evaluate(m: VersionMonitor): void {
    if (this.evaluatedAt.get(m) === m.totalRows) return;
    this.evaluatedAt.set(m, m.totalRows);
    for (const t of m.evaluate(this.now())) this.report(t);
  }

  evaluateAll(): void {
    for (const m of this.monitors()) {
      // A profile written into a live version's folder (`grove profile --output models/m/v/profile.json`)
      // starts drift monitoring without a reload: the window restarts with the profile's bins.
      if (!m.hasProfile && this.dirs.has(m) && this.profileAppeared(this.dirs.get(m)!)) {
        const fresh = this.create(m.model, m.version);
        if (fresh) this.evaluate(fresh);
        continue;
      }
      this.evaluate(m);
    }
  }

  private report(t: AlarmTransition): void {
    const fields = {
      model: t.model,
      version: t.version,
      feature: t.feature,
      kind: t.kind,
      value: t.value,
      threshold: t.threshold,
    };
    if (t.state === 'firing') this.o.logger?.warn(fields, `monitor alarm firing: ${t.kind} on ${t.feature}`);
    else this.o.logger?.info(fields, `monitor alarm resolved: ${t.kind} on ${t.feature}`);
    this.o.webhook?.send(t);
    this.onTransition?.(t);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.evaluateAll();
    await this.o.webhook?.close();
  }
}
