// Minimal Consul HTTP API client over undici: one request helper plus the blocking-query form
// (`?index=N&wait=Ts`, answer carries `X-Consul-Index`), as documented at
// https://developer.hashicorp.com/consul/api-docs/features/blocking. Works against a real agent.
import { type Dispatcher, request } from 'undici';
import { UnavailableError } from '../errors/grove-error.js';

export function consulBase(addr: string): string {
  const a = addr.replace(/\/+$/, '');
  return /^https?:\/\//.test(a) ? a : `http://${a}`;
}

export interface ConsulAnswer {
  status: number;
  index: number;
  body: string;
}

export async function consulRequest(
  addr: string,
  method: 'GET' | 'PUT' | 'DELETE',
  path: string,
  body?: string | Buffer,
  opts: { timeoutMs?: number; signal?: AbortSignal; token?: string } = {},
): Promise<ConsulAnswer> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = opts.token ?? process.env.CONSUL_HTTP_TOKEN;
  if (token) headers['x-consul-token'] = token;
  const timeout = opts.timeoutMs ?? 10_000;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(consulBase(addr) + path, {
      method,
      headers,
      body,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: opts.signal,
    });
  } catch (err) {
    throw new UnavailableError(
      `consul at ${addr} unreachable: ${(err as Error).message}`,
      'GROVE_ERR_CONSUL',
    );
  }
  const text = await res.body.text();
  const idx = Number(res.headers['x-consul-index']);
  if (res.statusCode >= 400 && res.statusCode !== 404) {
    throw new UnavailableError(
      `consul ${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`,
      'GROVE_ERR_CONSUL',
    );
  }
  return { status: res.statusCode, index: Number.isFinite(idx) ? idx : 0, body: text };
}
