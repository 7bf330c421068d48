// Registers a worker in Consul's service catalog through the local agent (the `consul` client,
// shared/consul/consul-client.ts) so gateways can find it: service `grove-worker` with an HTTP
// health check on /v2/health/ready and DeregisterCriticalServiceAfter (a crashed worker disappears
// on its own), the live model versions in the service meta; `update(meta)` registers again with
// new meta (the agent replaces a service registered again under the same ID), `deregister()` on
// shutdown. API: developer.hashicorp.com/consul/api-docs/agent/service
import type { ConsulClient } from './consul-client.js';
import { consulError } from './consul-settings.js';

export const WORKER_SERVICE = 'grove-worker';

/** Calls that are not blocking queries give up after this long. */
export const CONSUL_CALL_TIMEOUT_MS = 10_000;

export interface WorkerRegistrationOptions {
  consul: ConsulClient;
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
  const host = opts.address.includes(':') ? `[${opts.address}]` : opts.address;
  const register = async (meta: Record<string, string>) => {
    try {
      await opts.consul.agent.service.register({
        id: opts.id,
        name: WORKER_SERVICE,
        address: opts.address,
        port: opts.port,
        tags: ['grove'],
        meta,
        check: {
          checkid: `${opts.id}-ready`,
          name: 'grove worker ready',
          http: `http://${host}:${opts.port}/v2/health/ready`,
          method: 'GET',
          interval: opts.interval ?? '1s',
          timeout: '1s',
          deregistercriticalserviceafter: opts.deregisterCriticalServiceAfter ?? '1m',
        },
        timeout: CONSUL_CALL_TIMEOUT_MS,
      } as unknown as Parameters<ConsulClient['agent']['service']['register']>[0]);
    } catch (err) {
      throw consulError('service register', err);
    }
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
      try {
        await opts.consul.agent.service.deregister({
          id: opts.id,
          timeout: CONSUL_CALL_TIMEOUT_MS,
        } as unknown as Parameters<ConsulClient['agent']['service']['deregister']>[0]);
      } catch (err) {
        throw consulError('service deregister', err);
      }
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
