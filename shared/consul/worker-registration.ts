// Registers a worker in Consul's service catalog (through the local agent) so gateways can find
// it: `PUT /v1/agent/service/register` with an HTTP health check on /v2/health/ready and
// DeregisterCriticalServiceAfter (a crashed worker disappears on its own), the live model versions
// in the service meta, `update(meta)` re-registers with new meta (the agent replaces a service
// registered again under the same ID), `deregister()` on shutdown.
// API shapes: https://developer.hashicorp.com/consul/api-docs/agent/service
import { consulRequest } from './consul-http.js';

export const WORKER_SERVICE = 'grove-worker';

export interface WorkerRegistrationOptions {
  /** Consul agent address, `HOST:PORT` or `http://HOST:PORT`. */
  consul: string;
  /** Unique service ID (e.g. `grove-worker-<host>-<port>`). */
  id: string;
  address: string;
  port: number;
  meta: Record<string, string>;
  /** Health-check interval (Consul duration string); default '1s'. */
  interval?: string;
  /** Default '1m'. */
  deregisterCriticalServiceAfter?: string;
}

export interface WorkerRegistration {
  update(meta: Record<string, string>): Promise<void>;
  deregister(): Promise<void>;
}

export async function registerWorker(opts: WorkerRegistrationOptions): Promise<WorkerRegistration> {
  const base = opts.consul;
  const body = (meta: Record<string, string>) => ({
    ID: opts.id,
    Name: WORKER_SERVICE,
    Address: opts.address,
    Port: opts.port,
    Tags: ['grove'],
    Meta: meta,
    Check: {
      CheckID: `${opts.id}-ready`,
      Name: 'grove worker ready',
      HTTP: `http://${opts.address.includes(':') ? `[${opts.address}]` : opts.address}:${opts.port}/v2/health/ready`,
      Method: 'GET',
      Interval: opts.interval ?? '1s',
      Timeout: '1s',
      DeregisterCriticalServiceAfter: opts.deregisterCriticalServiceAfter ?? '1m',
    },
  });
  const register = async (meta: Record<string, string>) => {
    await consulRequest(base, 'PUT', '/v1/agent/service/register', JSON.stringify(body(meta)));
  };
  await register(opts.meta);
  let gone = false;
  return {
    async update(meta) {
      if (!gone) await register(meta);
    },
    async deregister() {
      if (gone) return;
      gone = true;
      await consulRequest(base, 'PUT', `/v1/agent/service/deregister/${encodeURIComponent(opts.id)}`);
    },
  };
}

// Consul meta: at most 64 pairs, keys up to 128 chars of [A-Za-z0-9_-], values up to 512 chars
// (https://developer.hashicorp.com/consul/docs/services/configuration/services-configuration-reference#meta).
// The live versions are JSON `{"model":["1","2"],...}`, cut into 500-char chunks under keys
// `grove_versions_0..k` plus `grove_versions_n` = k+1.
const META_PREFIX = 'grove_versions_';
const CHUNK = 500;

export function encodeVersionsMeta(live: Record<string, string[]>): Record<string, string> {
  const clean: Record<string, string[]> = {};
  for (const name of Object.keys(live).sort()) clean[name] = [...(live[name] ?? [])].map(String);
  const json = JSON.stringify(clean);
  const meta: Record<string, string> = {};
  let n = 0;
  for (let i = 0; i < json.length || n === 0; i += CHUNK)
    meta[`${META_PREFIX}${n++}`] = json.slice(i, i + CHUNK);
  meta[`${META_PREFIX}n`] = String(n);
  return meta;
}

export function decodeVersionsMeta(
  meta: Record<string, string> | null | undefined,
): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null);
  if (!meta) return out;
  const n = Number(meta[`${META_PREFIX}n`]);
  if (!Number.isInteger(n) || n <= 0 || n > 64) return out;
  let json = '';
  for (let i = 0; i < n; i++) {
    const part = meta[`${META_PREFIX}${i}`];
    if (typeof part !== 'string') return out;
    json += part;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return out;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return out;
  for (const [name, versions] of Object.entries(parsed as Record<string, unknown>)) {
    if (!Array.isArray(versions)) continue;
    out[name] = versions.filter((v) => typeof v === 'string' || typeof v === 'number').map(String);
  }
  return out;
}
