// The client address both transports hand to operations: what per-address limits count,
// what the remembered-success fingerprint and the audit trail hold. Behind a reverse proxy
// every peer is the proxy, so the proxy's X-Forwarded-For is believed — but only from
// proxies the operator names, or any client could pick its own address and escape limits.

import { isIP } from 'node:net';

const normalize = (address: string) => {
  const a = address.trim().toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
};

let cached: { list: string | undefined; trusted: Set<string> } | null = null;

function trustedSet(list: string | undefined): Set<string> {
  if (!cached || cached.list !== list) cached = { list, trusted: new Set((list ?? '').split(',').map(normalize).filter(Boolean)) };
  return cached.trusted;
}

/** Whether the peer is one of the proxies the operator named in TWOFOLD_TRUST_PROXY. */
export const isTrustedProxy = (peer: string | undefined, trustedProxies: string | undefined): boolean =>
  trustedSet(trustedProxies).has(normalize(peer ?? ''));

/**
 * The peer address, or, when the peer is a trusted proxy, the nearest address in
 * X-Forwarded-For that is not one: proxies append, so entries further left are whatever
 * the client wrote and are never believed.
 */
export function clientAddressOf(peer: string | undefined, forwardedFor: string | string[] | undefined, trustedProxies: string | undefined): string {
  const trusted = trustedSet(trustedProxies);
  let address = normalize(peer ?? '');
  if (!trusted.has(address) || forwardedFor === undefined) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalize(hops[i]!);
    if (isIP(hop) === 0) break; // a malformed entry: stop at the last proxy we know
    address = hop;
    if (!trusted.has(hop)) break;
  }
  return address;
}
