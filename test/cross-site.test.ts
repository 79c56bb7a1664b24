// Cross-site requests: a page on another site must not open a DDP socket in a user's browser
// (Origin is checked before the WebSocket handshake), must not reach a JSON endpoint with a
// form post or another body a browser sends without a CORS preflight, and the SQLite files
// that hold the accounts are readable by their owner only.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { DdpTestClient } from './helpers/ddp.ts';
import { rest } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

/** The upgrade's outcome: 'open', or the HTTP status and body it was refused with. */
function upgrade(url: string, headers: Record<string, string>): Promise<{ open: true } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => { socket.close(); resolve({ open: true }); });
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    socket.once('error', reject);
  });
}

/** One request written byte for byte, as curl sends a POST without data (no Content-Type, no Content-Length). */
function rawPost(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      resolve({ status, body: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) });
    });
    const lines = [`POST ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'User-Agent: curl/8.5.0', 'Accept: */*', 'Connection: close',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

const CHROMIUM = '/usr/bin/chromium';
// CI installs Chromium (.ci/run), so there a missing browser is a failure, not a skip.
const noBrowser = !existsSync(CHROMIUM) && !process.env.CI ? `${CHROMIUM} is missing` : false;

for (const store of storesUnderTest) {
  describe(`cross-site requests (${store})`, () => {
    let t: TestServer;
    let base: string;
    let sockjsUrl: string;
    before(async () => {
      t = await startTestServer({ store });
      base = t.url;
      sockjsUrl = t.wsUrl.replace(/\/websocket$/, '/sockjs/042/k3j5h6g7/websocket');
      await t.addUser({ username: 'xena', password: 'xena pw' });
    });
    after(() => t.close());

    it('a DDP upgrade from another site\'s page is refused with 403 before the handshake, on /websocket and the SockJS path', async () => {
      for (const url of [t.wsUrl, sockjsUrl]) {
        for (const origin of ['http://evil.example', `http://127.0.0.1:${t.server.port + 1}`, 'null', 'https://127.0.0.1.evil.example']) {
          const refused = await upgrade(url, { Origin: origin });
          assert.ok('status' in refused, `${url} ${origin} opened`);
          assert.equal(refused.status, 403);
          assert.equal(JSON.parse(refused.body).errorType, 'error-origin-not-allowed');
        }
        // The server's own pages, and clients that send no Origin (bots, SDKs, apps), get in.
        assert.deepEqual(await upgrade(url, { Origin: base }), { open: true });
        assert.deepEqual(await upgrade(url, { Origin: base.toUpperCase() }), { open: true });
        assert.deepEqual(await upgrade(url, {}), { open: true });
      }
      // A refused page could not have logged in; an allowed socket works as before.
      const ddp = await DdpTestClient.open(t.wsUrl, { headers: { Origin: base } });
      assert.equal((await ddp.loginWithPassword('xena', 'xena pw')).type, 'password');
      ddp.close();
    });

    it('TWOFOLD_ALLOWED_ORIGINS admits listed pages; X-Forwarded-Host counts only from a proxy in TWOFOLD_TRUST_PROXY', async () => {
      const settings = t.server.app.settings;
      const chat = { Origin: 'https://chat.example.com', 'X-Forwarded-Host': 'chat.example.com' };
      try {
        // Unset: the forwarded host is whatever the client wrote, so it proves nothing.
        assert.equal((await upgrade(t.wsUrl, chat) as { status: number }).status, 403);
        settings.trustProxy = '127.0.0.1';
        assert.deepEqual(await upgrade(t.wsUrl, chat), { open: true });
        // The proxy appends its entry last; an earlier one is the client's own.
        assert.equal((await upgrade(t.wsUrl, { ...chat, 'X-Forwarded-Host': 'chat.example.com, twofold.internal' }) as { status: number }).status, 403);
        settings.trustProxy = undefined;

        settings.allowedOrigins = 'https://chat.example.com,capacitor://localhost';
        assert.deepEqual(await upgrade(sockjsUrl, { Origin: 'https://chat.example.com' }), { open: true });
        assert.deepEqual(await upgrade(t.wsUrl, { Origin: 'https://CHAT.example.com:443' }), { open: true });
        assert.deepEqual(await upgrade(t.wsUrl, { Origin: 'capacitor://localhost' }), { open: true });
        assert.equal((await upgrade(t.wsUrl, { Origin: 'http://chat.example.com' }) as { status: number }).status, 403);
        assert.equal((await upgrade(t.wsUrl, { Origin: 'https://evil.example' }) as { status: number }).status, 403);
        // A listed page may read /sockjs/info from its own script; others are not told.
        const info = await rest(base, 'GET', '/sockjs/info', { headers: { Origin: 'https://chat.example.com' } });
        assert.equal(info.headers.get('access-control-allow-origin'), 'https://chat.example.com');
        const foreign = await rest(base, 'GET', '/sockjs/info', { headers: { Origin: 'https://evil.example' } });
        assert.equal(foreign.headers.get('access-control-allow-origin'), null);
        settings.allowedOrigins = '*';
        assert.deepEqual(await upgrade(t.wsUrl, { Origin: 'https://evil.example' }), { open: true });
      } finally {
        settings.trustProxy = undefined;
        settings.allowedOrigins = undefined;
      }
    });

    it('JSON endpoints refuse form-encoded, multipart and text/plain bodies with 415', async () => {
      const bodies: [string, string][] = [
        ['application/x-www-form-urlencoded', 'user=xena&password=xena+pw'],
        ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="user"\r\n\r\nxena\r\n--x--\r\n'],
        ['text/plain', '{"user": "xena", "password": "xena pw"}'],
        ['text/plain;charset=UTF-8', '{"emailOrUsername": "xena"}'],
      ];
      for (const path of ['/api/v1/login', '/api/v1/users.2fa.sendEmailCode', '/api/v1/method.callAnon/login']) {
        for (const [type, body] of bodies) {
          const res = await rest(base, 'POST', path, { body, headers: { 'content-type': type } });
          assert.equal(res.status, 415, `${path} ${type}: ${JSON.stringify(res.body)}`);
          assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
          assert.equal(res.body.success, false);
          assert.equal(res.body.errorType, 'error-unsupported-media-type');
        }
      }
      // The same login as JSON still works.
      assert.equal((await rest(base, 'POST', '/api/v1/login', { body: { user: 'xena', password: 'xena pw' } })).status, 200);
    });

    it('bodiless POSTs without a content type keep working, as the seed\'s curl examples send them', async () => {
      const login = await rest(base, 'POST', '/api/v1/login', { body: { user: 'xena', password: 'xena pw' } });
      const auth = { 'X-User-Id': login.body.data.userId, 'X-Auth-Token': login.body.data.authToken };
      // curl --location --request POST '…/users.2fa.enableEmail' (and disableEmail, logout): no data, no type.
      const enabled = await rawPost(t.server.port, '/api/v1/users.2fa.enableEmail', auth);
      assert.deepEqual(enabled, { status: 200, body: { success: true } });
      const challenged = await rawPost(t.server.port, '/api/v1/users.2fa.disableEmail', auth);
      assert.equal(challenged.status, 400);
      assert.equal(challenged.body.errorType, 'totp-required');
      const out = await rawPost(t.server.port, '/api/v1/logout', auth);
      assert.equal(out.status, 200);
      assert.equal(out.body.status, 'success');
    });
  });
}

describe('a hostile page in Chromium (sqlite)', { skip: noBrowser }, () => {
  it('cannot open a DDP socket nor make the server mail a code with a form-encoded post; the server\'s own page can connect', async () => {
    const t = await startTestServer();
    await t.addUser({ username: 'zoe', password: 'zoe pw' });
    // Another site: any page on another port is another origin.
    const evil: Server = createServer((_req, res) => { res.setHeader('content-type', 'text/html'); res.end('<!doctype html><title>evil</title>'); });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      const tryWebSocket = (url: string) => page.evaluate((u) => new Promise<string>((resolve) => {
        const ws = new WebSocket(u);
        ws.onopen = () => { ws.close(); resolve('open'); };
        ws.onerror = () => resolve('refused');
      }), url);
      const sockjsUrl = t.wsUrl.replace(/\/websocket$/, '/sockjs/1/evilpage/websocket');

      await page.goto(evilUrl);
      assert.equal(await tryWebSocket(t.wsUrl), 'refused');
      assert.equal(await tryWebSocket(sockjsUrl), 'refused');
      // A "simple" cross-site POST needs no preflight: the browser sends it and hides the answer.
      const seen = t.mail.messages.length;
      await page.evaluate(async (u) => {
        await fetch(`${u}/api/v1/users.2fa.sendEmailCode`, { method: 'POST', mode: 'no-cors', body: new URLSearchParams({ emailOrUsername: 'zoe' }) });
      }, t.url);
      // sendEmailCode answers after the mail is handed over, so a sent code would be here by now.
      assert.equal(t.mail.messages.slice(seen).filter((m) => m.to.includes('zoe@example.com')).length, 0);

      await page.goto(`${t.url}/api/info`);
      assert.equal(await tryWebSocket(t.wsUrl), 'open');
      assert.equal(await tryWebSocket(sockjsUrl), 'open');
    } finally {
      await browser.close();
      evil.closeAllConnections();
      await new Promise((resolve) => evil.close(resolve));
      await t.close();
    }
  });
});

describe('SQLite files are created for their owner only', () => {
  it('the data dir is 0700 and twofold.db, -wal and -shm are 0600, even under a permissive umask', async () => {
    const root = mkdtempSync(join(tmpdir(), 'twofold-modes-'));
    const dataDir = join(root, 'new', 'data');
    const umask = process.umask(0);
    let t: TestServer | undefined;
    try {
      t = await startTestServer({ settings: { dataDir } });
      await t.addUser({ username: 'yuri' });
      for (const name of ['twofold.db', 'twofold.db-wal', 'twofold.db-shm']) {
        assert.equal((statSync(join(dataDir, name)).mode & 0o777).toString(8), '600', name);
      }
      assert.equal((statSync(dataDir).mode & 0o777).toString(8), '700');
    } finally {
      process.umask(umask);
      await t?.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
