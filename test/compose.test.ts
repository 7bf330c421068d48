// Keeps docker-compose.yml, deploy/prometheus/prometheus.yml and the Dockerfile honest without a
// Docker engine: every grove command and flag they use exists in the real CLI (its --help), ports
// line up with the Prometheus scrape targets, every service has a health check, workers register
// under their own service name, the image runs as a non-root user; and docker-compose's own
// validation (CI installs it; without it that one test is skipped with the package to install).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findDockerCompose, skipReason } from './support/services.js';

const root = join(import.meta.dirname, '..');
const grove = join(root, 'dist', 'cli', 'grove.js');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string[] | string };
  environment?: Record<string, string>;
}
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const prometheus = parse(readFileSync(join(root, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
  scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
};
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

const groveServices = Object.entries(compose.services).filter(
  ([, s]) => s.image?.startsWith('grove') || s.build,
);
const argv = (s: Service): string[] =>
  Array.isArray(s.command) ? s.command : (s.command ?? '').split(/\s+/);
const flag = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const helpCache = new Map<string, string>();
function help(sub: string): string {
  if (!helpCache.has(sub)) {
    const r = spawnSync(process.execPath, [grove, sub, '--help'], { encoding: 'utf8', timeout: 20_000 });
    helpCache.set(sub, `${r.stdout}${r.stderr}`);
  }
  return helpCache.get(sub)!;
}

describe('docker-compose.yml', () => {
  it('runs Consul, a gateway, three workers and Prometheus', () => {
    const names = Object.keys(compose.services);
    expect(compose.services.consul?.image).toMatch(/^hashicorp\/consul:/);
    expect(compose.services.prometheus?.image).toMatch(/^prom\/prometheus:/);
    const roles = groveServices.map(([, s]) => argv(s)[0]);
    expect(roles.filter((r) => r === 'worker')).toHaveLength(3);
    expect(roles.filter((r) => r === 'gateway')).toHaveLength(1);
    expect(names.length).toBe(groveServices.length + 2);
  });

  it('uses only grove subcommands and flags that exist (checked against --help)', () => {
    for (const [name, service] of groveServices) {
      const [sub, ...rest] = argv(service);
      const text = help(sub!);
      expect(text, `${name}: 'grove ${sub} --help'`).toMatch(/usage/i);
      expect(text, `${name}: unknown command ${sub}`).not.toMatch(/unknown command/);
      for (const f of rest.filter((a) => a.startsWith('--'))) {
        expect(text, `${name}: grove ${sub} has no ${f}`).toContain(f);
      }
    }
  });

  it('workers register in the Consul service under their own name; the gateway discovers them there', () => {
    // Consul's HTTP API listens on 8500 (the port the compose file publishes).
    expect(compose.services.consul!.ports!.some((p) => p.endsWith(':8500'))).toBe(true);
    for (const [name, service] of groveServices) {
      const args = argv(service);
      expect(flag(args, '--consul'), name).toBe('consul:8500');
      if (args[0] === 'worker') expect(flag(args, '--advertise-host'), name).toBe(name);
    }
  });

  it('Prometheus scrapes every grove service on the port it listens on, and nothing else', () => {
    const targets = prometheus.scrape_configs
      .flatMap((c) => c.static_configs.flatMap((s) => s.targets))
      .sort();
    const expected = groveServices.map(([name, s]) => `${name}:${flag(argv(s), '--port')}`).sort();
    expect(targets).toEqual(expected);
  });

  it('every service has a health check, and grove health checks probe the port the service listens on', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.healthcheck?.test, `${name} has no healthcheck`).toBeTruthy();
    }
    for (const [name, service] of groveServices) {
      const test = JSON.stringify(service.healthcheck!.test);
      expect(test, name).toContain(`127.0.0.1:${flag(argv(service), '--port')}/v2/health/ready`);
      expect(service.environment?.GROVE_HEALTH_PORT, name).toBe(flag(argv(service), '--port'));
    }
  });

  it('workers (and the gateway, for default splits) read the models volume at the path they are given', () => {
    expect(compose.volumes).toHaveProperty('models');
    for (const [name, service] of groveServices) {
      const dir = flag(argv(service), '--models');
      if (argv(service)[0] === 'worker') expect(dir, name).toBeTruthy();
      if (dir === undefined) continue;
      const mounts = (service.volumes ?? []).map((v) => v.replace(/:ro$/, ''));
      expect(mounts, name).toContain(`models:${dir}`);
    }
  });

  it('publishes the admin API, Consul and Prometheus on loopback only', () => {
    const published = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    for (const p of published) {
      if (!p.startsWith('8080:')) expect(p).toMatch(/^127\.0\.0\.1:/);
    }
  });

  const dockerCompose = findDockerCompose();
  it.skipIf(!dockerCompose)(
    dockerCompose
      ? 'is accepted by docker-compose itself (config -q)'
      : skipReason('docker-compose', 'docker-compose'),
    () => {
      execFileSync(dockerCompose!, ['-f', join(root, 'docker-compose.yml'), 'config', '-q'], {
        cwd: root,
        timeout: 30_000,
        stdio: 'pipe',
      });
    },
  );
});

describe('Dockerfile', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds in one stage and runs dist/ with production dependencies in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const runtime = stages[stages.length - 1]!;
    expect(stages[0]).toMatch(/npm ci/);
    expect(stages[0]).toMatch(/npm prune --omit=dev|npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist/);
    expect(runtime).not.toMatch(/COPY (cli|shared|worker|gateway) /);
  });

  it('runs as a non-root user with a health check', () => {
    const runtime = stages[stages.length - 1]!;
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0', '0:0']).not.toContain(users[users.length - 1]);
    expect(runtime).toMatch(/^HEALTHCHECK /m);
    expect(runtime).toMatch(/\/v2\/health\/ready/);
  });

  it('starts the CLI by default on the demo repository', () => {
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "dist\/cli\/grove.js"\]/);
    expect(dockerfile).toMatch(/CMD \["serve", "--models", "\/models"/);
  });
});
