// The Consul client every grove process uses (the `consul` npm package) for the settings of
// consul-settings.ts: keep-alive connections, TLS trusting CONSUL_CACERT, the ACL token on every
// call. Failures become GROVE_ERR_CONSUL errors, so callers and logs see one kind of Consul error.
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import Consul from 'consul';
import type { ConsulSettings } from './consul-settings.js';

export { type ConsulSettings, consulError, consulSettings } from './consul-settings.js';
export type ConsulClient = InstanceType<typeof Consul>;

/** A client for `settings`; keep-alive connections, closed by `client.destroy()`. */
export function consulClient(settings: ConsulSettings): ConsulClient {
  const secure = settings.url.startsWith('https:');
  const agent = secure
    ? new HttpsAgent({
        keepAlive: true,
        ...(settings.caFile ? { ca: readFileSync(settings.caFile) } : {}),
      })
    : new HttpAgent({ keepAlive: true });
  return new Consul({
    baseUrl: `${settings.url}/v1`,
    agent,
    ...(settings.token ? { defaults: { token: settings.token } } : {}),
  } as ConstructorParameters<typeof Consul>[0]);
}
