// Where and how grove reaches Consul, read the way Consul's own tools read it
// (developer.hashicorp.com/consul/commands#environment-variables):
// - address: `--consul ADDR` when given, else CONSUL_HTTP_ADDR, else 127.0.0.1:8500; ADDR is
//   HOST:PORT or http(s)://HOST:PORT (https: TLS);
// - CONSUL_HTTP_TOKEN: the ACL token sent with every call (X-Consul-Token);
// - CONSUL_CACERT: a PEM file of the CA that signed the agent's certificate (for https).
// Kept apart from the client (consul-client.ts), with the one Consul error, so code that only names
// them does not load the client.
import { UnavailableError } from '../errors/grove-error.js';

export interface ConsulSettings {
  /** `http(s)://host:port`, without the /v1 suffix. */
  url: string;
  token: string | undefined;
  caFile: string | undefined;
}

/** Where and how to reach Consul, from the flag (may be empty) and the environment. */
export function consulSettings(
  addr: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ConsulSettings {
  const given = addr?.trim() || env.CONSUL_HTTP_ADDR?.trim() || '127.0.0.1:8500';
  const url = /^https?:\/\//i.test(given) ? given.replace(/\/+$/, '') : `http://${given}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnavailableError(
      `consul address '${given}' is not HOST:PORT or http(s)://HOST:PORT`,
      'GROVE_ERR_CONSUL',
    );
  }
  if (parsed.pathname !== '/' || parsed.search) {
    throw new UnavailableError(`consul address '${given}' must not have a path`, 'GROVE_ERR_CONSUL');
  }
  return {
    url: `${parsed.protocol}//${parsed.host}`,
    token: env.CONSUL_HTTP_TOKEN?.trim() || undefined,
    caFile: env.CONSUL_CACERT?.trim() || undefined,
  };
}

/** A client error as GROVE_ERR_CONSUL, naming what was asked. */
export function consulError(what: string, err: unknown): UnavailableError {
  const e = err as Error & { statusCode?: number; response?: { statusCode?: number } };
  const status = e.statusCode ?? e.response?.statusCode;
  return new UnavailableError(
    `consul ${what}: ${status ? `HTTP ${status}: ` : ''}${e.message}`,
    'GROVE_ERR_CONSUL',
  );
}
