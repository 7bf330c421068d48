// The load-test scenarios (`npm run loadtest`): each starts the processes it needs on loopback,
// drives them with the same engine as `grove loadtest`, and stops them. Timings are bounded by
// SuiteSettings.durationS per load run.
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { LoadReport } from '../load-recorder.js';
import type { LoadtestOptions } from '../options.js';
import { runLoadtest } from '../run-loadtest.js';
import { nginxBinary, startNginx } from './nginx-peer.js';
import { childPids, freePort, type GroveProcess, startGrove, startWorker } from './processes.js';
import type { ScenarioResult, SuiteSettings } from './scenario-types.js';
import { startSlowProxy } from './slow-proxy.js';

export const ADMIN_TOKEN = 'loadtest-suite-token';
export const POLICIES = ['random', 'round-robin', 'least-outstanding', 'p2c'] as const;

function loadOptions(s: SuiteSettings, url: string, extra: Partial<LoadtestOptions> = {}): LoadtestOptions {
  return {
    url,
    model: 'churn',
    version: null,
    rowsPerRequest: 1,
    connections: s.connections,
    durationS: s.durationS,
    rate: null,
    stickyUsers: 0,
    protocol: 'v2',
    input: null,
    seed: 42,
    timeoutS: 10,
    json: null,
    quiet: true,
    // The suite judges each scenario's failures itself (expectations in scenarios.ts).
    maxErrorRate: 1,
    ...extra,
  };
}

/** The CLI line that reproduces a load (the target's port is whatever the suite picked). */
export function commandFor(o: LoadtestOptions): string {
  const parts = ['grove loadtest', `--url ${o.url}`, `--model ${o.model}`];
  if (o.version) parts.push(`--version ${o.version}`);
  parts.push(`--connections ${o.connections}`, `--duration ${o.durationS}`);
  if (o.rowsPerRequest !== 1) parts.push(`--rows-per-request ${o.rowsPerRequest}`);
  if (o.rate !== null) parts.push(`--rate ${o.rate}`);
  if (o.stickyUsers) parts.push(`--sticky-users ${o.stickyUsers}`);
  return parts.join(' ');
}

/**
 * A warm-up run (not recorded: lets V8 optimize the hot paths and connections open), then the
 * measured run. `atStart` runs between the two, so timed events (swap, kill) land in the
 * measured run.
 */
async function measure(
  label: string,
  options: LoadtestOptions,
  warmupS: number,
  atStart?: () => void,
): Promise<LoadReport> {
  if (warmupS > 0) await runLoadtest({ ...options, durationS: warmupS }, { progress: null });
  atStart?.();
  return runLoadtest(options, {
    progress: (line) => process.stderr.write(line.replace('\r', `\r${label} `)),
  });
}

async function startGateway(
  upstreams: string[],
  policy: string,
): Promise<{ gw: GroveProcess; admin: string }> {
  const port = await freePort();
  const adminPort = await freePort();
  const gw = await startGrove(
    [
      'gateway',
      '--upstreams',
      upstreams.join(','),
      '--port',
      String(port),
      '--policy',
      policy,
      '--admin-port',
      String(adminPort),
    ],
    port,
    { GROVE_ADMIN_TOKEN: ADMIN_TOKEN },
  );
  return { gw, admin: `http://127.0.0.1:${adminPort}` };
}

const failed = (r: LoadReport) => r.errors + r.non2xx;

/** Worker direct vs gateway + 2 workers vs nginx least_conn + the same 2 workers. */
export async function peersScenario(s: SuiteSettings): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const workers = [await startWorker(s.models), await startWorker(s.models)];
  try {
    const direct = loadOptions(s, workers[0]!.url, { version: '1' });
    results.push({
      group: 'peers',
      name: 'worker direct',
      description: 'one worker, no gateway (one-row requests, closed loop)',
      command: commandFor(direct),
      report: await measure('[worker direct]', direct, s.warmupS),
    });
    const { gw } = await startGateway(
      workers.map((w) => w.url),
      'p2c',
    );
    try {
      const o = loadOptions(s, gw.url, { version: '1' });
      results.push({
        group: 'peers',
        name: 'gateway + 2 workers',
        description: 'grove gateway (p2c) over two workers',
        command: commandFor(o),
        report: await measure('[gateway]', o, s.warmupS),
      });
    } finally {
      await gw.stop();
    }
    const binary = nginxBinary();
    if (binary === null) {
      results.push({
        group: 'peers',
        name: 'nginx + 2 workers',
        description: 'nginx least_conn over the same two workers',
        command: '',
        report: null,
        skipped: 'nginx is not installed (apt-get install nginx)',
      });
    } else {
      const nginx = await startNginx(
        binary,
        workers.map((w) => w.url),
      );
      try {
        const o = loadOptions(s, nginx.url, { version: '1' });
        results.push({
          group: 'peers',
          name: 'nginx + 2 workers',
          description: 'nginx least_conn (1 worker process, keep-alive upstreams) over the same two workers',
          command: commandFor(o),
          report: await measure('[nginx]', o, s.warmupS),
        });
      } finally {
        await nginx.stop();
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
  return results;
}

/** The four policies over three workers, one of them slowed by a proxy, at a fixed rate. */
export async function policiesScenario(s: SuiteSettings): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const workers = [await startWorker(s.models), await startWorker(s.models), await startWorker(s.models)];
  const slow = await startSlowProxy(workers[2]!.url, s.slowDelayMs);
  try {
    for (const policy of POLICIES) {
      const { gw } = await startGateway([workers[0]!.url, workers[1]!.url, slow.url], policy);
      try {
        const o = loadOptions(s, gw.url, {
          version: '1',
          rate: Number.isNaN(s.policyRate) ? 200 : s.policyRate,
          connections: Math.max(s.connections, 32),
        });
        const report = await measure(`[${policy}]`, o, s.warmupS);
        const slowShare = (report.workers[slow.url] ?? 0) / Math.max(1, report.requests);
        results.push({
          group: 'policies',
          name: `policy ${policy}`,
          description: `gateway --policy ${policy}; 3 workers, one behind a +${s.slowDelayMs} ms proxy; fixed rate`,
          command: commandFor(o),
          report,
          notes: [`The slow worker served ${(slowShare * 100).toFixed(1)}% of requests`],
          metrics: { slow_worker_share: slowShare, slow_delay_ms: s.slowDelayMs },
        });
      } finally {
        await gw.stop();
      }
    }
  } finally {
    await slow.close();
    await Promise.all(workers.map((w) => w.stop()));
  }
  return results;
}

/** A 90/10 split set over the admin API, sticky on x-user-id, under load from 1000 users. */
export async function splitScenario(s: SuiteSettings): Promise<ScenarioResult[]> {
  const workers = [await startWorker(s.models), await startWorker(s.models)];
  const { gw, admin } = await startGateway(
    workers.map((w) => w.url),
    'p2c',
  );
  try {
    const put = await request(`${admin}/admin/models/churn/split`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ weights: { '1': 90, '2': 10 }, sticky: 'x-user-id' }),
    });
    const text = await put.body.text();
    if (put.statusCode !== 200) throw new Error(`PUT split answered ${put.statusCode}: ${text}`);
    const o = loadOptions(s, gw.url, { stickyUsers: 1000 });
    const report = await measure('[split 90/10]', o, s.warmupS);
    const share2 = (report.versions['2'] ?? 0) / Math.max(1, report.requests);
    const sticky = report.sticky!;
    return [
      {
        group: 'split',
        name: 'split 90/10',
        description: 'PUT /admin/models/churn/split {"1": 90, "2": 10}, sticky x-user-id, 1000 users',
        command: commandFor(o),
        report,
        expectation: 'no failed requests; each user sees one version; version 2 gets 5-15% of requests',
        passed:
          failed(report) === 0 &&
          sticky.users_with_one_version === sticky.users_seen &&
          share2 > 0.05 &&
          share2 < 0.15,
        metrics: { version_2_share: share2 },
        notes: [
          `Version 2 share ${(share2 * 100).toFixed(1)}%`,
          `${sticky.users_with_one_version}/${sticky.users_seen} users saw one version`,
        ],
      },
    ];
  } finally {
    await gw.stop();
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** A temporary copy of the demo repository with churn version 1 only (version 2 arrives later). */
function repositoryWithoutV2(models: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'grove-swap-'));
  cpSync(join(models, 'churn', '1'), join(dir, 'churn', '1'), { recursive: true });
  const config = JSON.parse(readFileSync(join(models, 'churn', 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  delete config.split;
  writeFileSync(join(dir, 'churn', 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

/** Copies version 2 into the repository mid-run (staged, then renamed into place: atomic). */
export async function hotSwapScenario(s: SuiteSettings): Promise<ScenarioResult[]> {
  const repo = repositoryWithoutV2(s.models);
  const port = await freePort();
  const adminPort = await freePort();
  const serve = await startGrove(
    [
      'serve',
      '--models',
      repo,
      '--port',
      String(port),
      '--workers',
      '2',
      '--admin-port',
      String(adminPort),
      '--state-dir',
      join(repo, '.grove'),
    ],
    port,
    { GROVE_ADMIN_TOKEN: ADMIN_TOKEN },
  );
  try {
    const o = loadOptions(s, serve.url, { durationS: Math.max(4, s.durationS * 2) });
    const swapAt = (o.durationS * 1000) / 3;
    let timer: NodeJS.Timeout | undefined;
    const report = await measure('[hot swap]', o, s.warmupS, () => {
      timer = setTimeout(() => {
        cpSync(join(s.models, 'churn', '2'), join(repo, 'churn', '.v2-staging'), { recursive: true });
        renameSync(join(repo, 'churn', '.v2-staging'), join(repo, 'churn', '2'));
      }, swapAt);
    });
    clearTimeout(timer);
    return [
      {
        group: 'hot-swap',
        name: 'hot swap',
        description: `grove serve --workers 2 on churn v1; churn/2 copied into the repository at ${(swapAt / 1000).toFixed(1)} s`,
        command: commandFor(o),
        report,
        expectation: 'zero failed requests',
        passed: failed(report) === 0 && report.requests > 0,
        notes: [`Versions answered: ${JSON.stringify(report.versions)}`],
      },
    ];
  } finally {
    await serve.stop();
    rmSync(repo, { recursive: true, force: true });
  }
}

/** SIGKILLs one of `grove serve`'s workers mid-run; the gateway retries and respawns it. */
export async function workerKilledScenario(s: SuiteSettings): Promise<ScenarioResult[]> {
  const port = await freePort();
  const adminPort = await freePort();
  // Split state goes to a scratch folder, never into the user's repository.
  const state = mkdtempSync(join(tmpdir(), 'grove-state-'));
  const serve = await startGrove(
    [
      'serve',
      '--models',
      s.models,
      '--port',
      String(port),
      '--workers',
      '2',
      '--admin-port',
      String(adminPort),
      '--state-dir',
      state,
    ],
    port,
    { GROVE_ADMIN_TOKEN: ADMIN_TOKEN },
  );
  const notes: string[] = [];
  try {
    const o = loadOptions(s, serve.url, { durationS: Math.max(4, s.durationS * 2) });
    const before = await childPids(serve.proc.pid!);
    let respawnMs = Number.NaN;
    const killAt = (o.durationS * 1000) / 3;
    const kill = async () => {
      const victim = before[0];
      if (victim === undefined) return;
      const killedAt = performance.now();
      try {
        process.kill(victim, 'SIGKILL');
      } catch {
        return;
      }
      // A respawned worker is a new child pid; poll /proc for it (bounded by the run).
      while (performance.now() - killedAt < o.durationS * 1000) {
        const now = await childPids(serve.proc.pid!);
        if (now.some((p) => !before.includes(p))) {
          respawnMs = performance.now() - killedAt;
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const report = await measure('[worker killed]', o, s.warmupS, () => {
      timer = setTimeout(kill, killAt);
    });
    clearTimeout(timer);
    notes.push(
      before.length === 0
        ? 'No worker child process found to kill'
        : `Killed pid ${before[0]} at ${(killAt / 1000).toFixed(1)} s; new worker process after ${Number.isNaN(respawnMs) ? 'n/a' : `${respawnMs.toFixed(0)} ms`}`,
    );
    return [
      {
        group: 'worker-killed',
        name: 'worker killed',
        description: 'grove serve --workers 2; one worker SIGKILLed mid-run',
        command: commandFor(o),
        report,
        expectation: 'zero failed requests, a new worker process within 1 s',
        passed: failed(report) === 0 && before.length > 0 && respawnMs < 1000,
        notes,
        ...(Number.isNaN(respawnMs) ? {} : { metrics: { respawn_ms: Math.round(respawnMs) } }),
      },
    ];
  } finally {
    await serve.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

export const SCENARIOS: Record<string, (s: SuiteSettings) => Promise<ScenarioResult[]>> = {
  peers: peersScenario,
  policies: policiesScenario,
  split: splitScenario,
  'hot-swap': hotSwapScenario,
  'worker-killed': workerKilledScenario,
};
