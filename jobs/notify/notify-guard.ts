// Per-job webhook URLs (`?notify=URL`) come from clients, so the gateway must not become their way
// into the network behind it (server-side request forgery): such a URL must be http(s), and the
// address it connects to, checked when the connection is made (after DNS, on every redirect),
// must be a public one unless the operator allows private ones (--job-notify-private). The
// operator's own --job-webhook is trusted as given.
import {
  lookup as dnsLookup,
  type LookupAddress,
  type LookupAllOptions,
  type LookupOneOptions,
} from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { BadInputError } from '../../shared/errors/grove-error.js';

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 127],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    // An IPv4-mapped address is its IPv4 address (BlockList itself also matches IPv4 addresses
    // against mapped IPv6 rules, so no IPv6 rule may cover ::ffff:0:0/96).
    const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (m) return PRIVATE.check(m[1]!, 'ipv4');
  }
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Checks a client's notify URL at submission; returns it normalized. */
export function checkNotifyUrl(raw: string, allowPrivate: boolean): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new BadInputError('notify must be an absolute http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new BadInputError('notify must be an http(s) URL');
  if (raw.length > 2048) throw new BadInputError('notify URL is longer than 2048 characters');
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (
    !allowPrivate &&
    (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) && isPrivateAddress(host)))
  )
    throw new BadInputError(
      'notify URL points at a private address (the gateway allows that only with --job-notify-private)',
    );
  return u.toString();
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** dns.lookup that refuses private addresses (net.connect's `lookup` option). */
function publicLookup(
  hostname: string,
  options: LookupAllOptions | LookupOneOptions,
  callback: LookupCallback,
): void {
  const done = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
    if (err) return callback(err, address);
    const all = Array.isArray(address) ? address.map((a) => a.address) : [address];
    if (all.some(isPrivateAddress)) {
      const e: NodeJS.ErrnoException = new Error(`${hostname} resolves to a private address`);
      e.code = 'EACCES';
      return callback(e, address);
    }
    callback(null, address, family);
  };
  if (options.all) dnsLookup(hostname, options as LookupAllOptions, done);
  else dnsLookup(hostname, options as LookupOneOptions, done);
}

let guarded: Agent | null = null;

/** fetch for client-given URLs: connections only to public addresses. */
export const publicFetch: typeof fetch = ((url: string, init: Parameters<typeof undiciFetch>[1]) => {
  guarded ??= new Agent({ connect: { lookup: publicLookup as never } });
  return undiciFetch(url, { ...init, dispatcher: guarded });
}) as unknown as typeof fetch;
