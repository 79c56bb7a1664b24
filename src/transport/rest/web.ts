// The browser app (src/web, built into dist/web) served from the API's own server: one
// origin, so the pages need no CORS and the strict CSP below can allow only 'self'.
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, RawServerDefault } from 'fastify';

export const WEB_ROOT = fileURLToPath(new URL('../../../dist/web', import.meta.url));

/** Routes of the single-page app; each answers with index.html. Keep in step with src/web/src/main.ts. */
export const PAGE_ROUTES = ['/', '/login', '/register', '/security', '/security/sessions', '/verify-email'] as const;

// No inline script or style and nothing from another origin; the QR code is a data: image.
const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Twofold</title></head>
<body><h1>The web pages are not built yet</h1>
<p>Run <code>npm run build:web</code> and restart the server (<code>npm start</code> does both).
The REST API and DDP work without them.</p></body></html>`;

const sendIndex = (reply: FastifyReply) => reply.header('cache-control', 'no-cache').sendFile('index.html');

const API_PREFIXES = ['/api/', '/websocket', '/sockjs'];

/**
 * A path a person may have typed or followed from an old link: the app's own not-found page
 * (index.html with status 404; the router shows the words). The API's paths and anything that
 * looks like a file (a missing script, a dotfile) keep the JSON 404.
 */
export function isPagePath(pathname: string): boolean {
  if (pathname === '/api' || API_PREFIXES.some((p) => pathname.startsWith(p))) return false;
  const last = pathname.slice(pathname.lastIndexOf('/') + 1);
  return !last.includes('.') && !pathname.startsWith('/assets/') && pathname.length <= 2048;
}

/** Registers the pages after the API routes; /api/* stays with the API's JSON 404. */
export function registerWebApp<L extends FastifyBaseLogger>(
  fastify: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, L>,
  root: string = WEB_ROOT,
): void {
  fastify.register(async (web) => {
    web.addHook('onSend', async (_req, reply, payload) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
      return payload;
    });
    if (!existsSync(join(root, 'index.html'))) {
      for (const path of PAGE_ROUTES) {
        web.get(path, (_req, reply) => reply.code(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(NOT_BUILT));
      }
      return;
    }
    await web.register(fastifyStatic, {
      root,
      prefix: '/',
      index: false,
      // One route per built file, so the catch-all below can answer the paths that are no file.
      wildcard: false,
      dotfiles: 'ignore',
      cacheControl: false,
      // File names under assets/ carry a content hash, so they never change.
      setHeaders: (reply, path) => reply.header('cache-control', path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache'),
      // The API's paths are never files: its 404 stays JSON.
      allowedPath: (pathName) => !pathName.startsWith('/api/') && pathName !== '/api' && pathName !== '/websocket',
    });
    for (const path of PAGE_ROUTES) web.get(path, (_req, reply) => sendIndex(reply));
    web.get('/*', (req, reply) => {
      if (!isPagePath(req.url.split('?')[0] ?? '/')) return reply.callNotFound();
      return sendIndex(reply.code(404));
    });
  });
}
