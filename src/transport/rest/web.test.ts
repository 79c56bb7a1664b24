import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Fastify from 'fastify';
import { PAGE_ROUTES, registerWebApp } from './web.ts';

/** A Fastify like the real one: API routes first, a JSON 404, then the pages. */
async function serverWith(root: string) {
  const f = Fastify();
  f.setNotFoundHandler((_req, reply) => { reply.code(404).send({ success: false, errorType: 'error-not-found' }); });
  f.get('/api/v1/me', async () => ({ success: true }));
  registerWebApp(f, root);
  await f.ready();
  return f;
}

describe('serving the web pages', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'twofold-web-'));
    dirs.push(d);
    return d;
  };
  after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  it('without a build, the pages say how to build them and the API still answers', async () => {
    const f = await serverWith(join(tempDir(), 'missing'));
    for (const url of PAGE_ROUTES) {
      const res = await f.inject({ url });
      assert.equal(res.statusCode, 503, url);
      assert.match(res.body, /npm run build:web/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
    }
    assert.equal((await f.inject({ url: '/api/v1/me' })).json().success, true);
    assert.equal((await f.inject({ url: '/api/v1/nope' })).json().errorType, 'error-not-found');
    await f.close();
  });

  it('every page route answers index.html; files are served; /api/* never comes from the build', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>app</title>');
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
    mkdirSync(join(root, 'api', 'v1'), { recursive: true });
    writeFileSync(join(root, 'api', 'v1', 'nope'), 'not an endpoint');
    writeFileSync(join(root, '.secret'), 'hidden');
    const f = await serverWith(root);
    for (const url of PAGE_ROUTES) {
      const res = await f.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.body, /<title>app<\/title>/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(String(res.headers['content-security-policy']), /^default-src 'self'/);
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
    }
    const asset = await f.inject({ url: '/assets/index-abc.js' });
    assert.equal(asset.statusCode, 200);
    assert.match(String(asset.headers['cache-control']), /immutable/);
    for (const url of ['/api/v1/nope', '/.secret', '/assets/missing.js', '/favicon.ico']) {
      const res = await f.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().errorType, 'error-not-found', url);
    }
    await f.close();
  });

  it('an unknown page path gets the app (status 404) so its own not-found page shows, not JSON', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>app</title>');
    const f = await serverWith(root);
    for (const url of ['/no-such-page', '/security/old/link', '/settings?x=1']) {
      const res = await f.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.match(String(res.headers['content-type']), /^text\/html/, url);
      assert.match(res.body, /<title>app<\/title>/, url);
      assert.match(String(res.headers['content-security-policy']), /^default-src 'self'/, url);
    }
    // Other methods and the API keep the JSON 404.
    assert.equal((await f.inject({ method: 'POST', url: '/no-such-page' })).json().errorType, 'error-not-found');
    assert.equal((await f.inject({ url: '/api/v1/nope/deeper' })).json().errorType, 'error-not-found');
    await f.close();
  });
});
