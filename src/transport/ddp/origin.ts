// Which web pages may open a DDP socket. A browser lets any page open a WebSocket to any
// server and only says where the page came from in `Origin`; without this check a page on
// another site could drive a user's session from their browser (cross-site WebSocket
// hijacking). Clients outside a browser (bots, SDKs, the mobile apps) send no Origin, or
// their server's own, and are let in.

import type { IncomingHttpHeaders } from 'node:http';
import { isTrustedProxy } from '../client-address.ts';

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

let cached: { list: string | undefined; allowed: Set<string>; any: boolean } | null = null;

function allowedSet(list: string | undefined) {
  if (!cached || cached.list !== list) {
    const entries = (list ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const allowed = new Set(entries.filter((e) => e !== '*').map(normalizeOrigin));
    cached = { list, allowed, any: entries.includes('*') };
  }
  return cached;
}

/**
 * An origin as browsers send it: lower case, no trailing slash, and for http(s) without the
 * scheme's default port. App schemes (`capacitor://localhost`) are kept as written.
 */
export function normalizeOrigin(origin: string): string {
  const text = origin.trim().toLowerCase().replace(/\/$/, '');
  if (!/^https?:\/\//.test(text)) return text;
  try {
    return new URL(text).origin;
  } catch {
    return text;
  }
}

/** A Host header without the default port of `scheme`, lower case. */
function normalizeHost(host: string, scheme: string): string {
  const h = host.trim().toLowerCase();
  const port = DEFAULT_PORTS[scheme];
  return port && h.endsWith(`:${port}`) && !h.endsWith(']') ? h.slice(0, -port.length - 1) : h;
}

export interface OriginRequest {
  headers: IncomingHttpHeaders;
  peer: string | undefined;
}

/**
 * Allowed: no Origin header; an Origin whose host is the request's own (the Host header, or
 * behind a proxy named in TWOFOLD_TRUST_PROXY its X-Forwarded-Host); one listed in
 * TWOFOLD_ALLOWED_ORIGINS; anything when that list holds `*`.
 */
export function originAllowed(req: OriginRequest, settings: { allowedOrigins?: string | undefined; trustProxy?: string | undefined }): boolean {
  const raw = req.headers.origin;
  if (raw === undefined) return true;
  if (Array.isArray(raw)) return false;
  const { allowed, any } = allowedSet(settings.allowedOrigins);
  if (any) return true;
  const origin = normalizeOrigin(raw);
  if (allowed.has(origin)) return true;
  // "null" (a sandboxed frame, a file: page) or an app scheme has no host to compare.
  if (!/^https?:\/\//.test(origin)) return false;
  const forwarded = req.headers['x-forwarded-host'];
  let host = req.headers.host;
  if (forwarded !== undefined && isTrustedProxy(req.peer, settings.trustProxy)) {
    // The proxy we trust appended the last entry; earlier ones came from the client.
    host = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded).split(',').pop();
  }
  if (!host) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return normalizeHost(host, url.protocol) === url.host;
}
