// The SDK as a browser gets it: bundled for the web (no `ws`, no Node APIs), loaded by a
// page of the server's own origin in Chromium, using the browser's fetch, WebSocket and Web
// Crypto, with the hook answered from outside the page (the mailbox, an authenticator app).
// SQLite only, as test/web.test.ts: the protocol is the same whichever store is behind it,
// and rest.test.ts / ddp.test.ts cover both stores.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build, type Rollup } from 'vite';
import { nextTotp } from '../../../test/helpers/totp.ts';
import { mailbox, sdkWorld, type SdkWorld } from './world.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) && !process.env.CI ? `${CHROMIUM} is missing` : false;

/** The SDK (or another entry) bundled as a browser ES module. */
async function bundle(entry = 'src/index.ts'): Promise<string> {
  const out = await build({
    configFile: false, logLevel: 'silent',
    root: fileURLToPath(new URL('..', import.meta.url)),
    build: { write: false, minify: false, lib: { entry, formats: ['es'], fileName: 'client' } },
  });
  const result = (Array.isArray(out) ? out[0] : out) as Rollup.RollupOutput;
  return result.output[0].code;
}

describe('the SDK in Chromium (sqlite)', { skip }, () => {
  let w: SdkWorld;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let code: string;
  let passkeyCode: string;
  let problems: string[];

  before(async () => {
    code = await bundle();
    passkeyCode = await bundle('test/browser-passkey-entry.ts');
    w = await sdkWorld('sqlite');
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await w?.close();
  });

  beforeEach(async () => {
    problems = [];
    context = await browser.newContext();
    // tsx compiles this file keeping function names through an `__name` helper, which the
    // functions handed to page.evaluate bring along; the page needs it too.
    await context.addInitScript('window.__name = (f) => f');
    // The bundle is served on the server's origin by the test itself.
    await context.route(`${w.t.url}/sdk/client.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: code }));
    page = await context.newPage();
    page.on('pageerror', (e) => problems.push(e.message));
    // Any document the server itself answers: a page the test made up would count as a
    // public address for Chromium's Local Network Access checks, which then block the socket.
    await page.goto(`${w.t.url}/sockjs/info`);
  });
  afterEach(async () => {
    await context.close();
    assert.deepEqual(problems, []);
  });

  it('does not pull `ws` or any Node module into the browser bundle, nor the passkey library into the core', () => {
    assert.doesNotMatch(code, /from\s*["'](ws|node:[a-z]+)["']|require\(/);
    assert.doesNotMatch(code, /startAuthentication|navigator\.credentials/);
  });

  it('answers with a passkey through answerWithPasskey (Chromium\'s virtual authenticator): REST sign-in, a protected call, DDP sign-in', async () => {
    // Browsers refuse an IP address as a WebAuthn relying party: this page is on localhost.
    const origin = w.t.url.replace('127.0.0.1', 'localhost');
    w.t.server.app.settings.webauthnOrigin = origin;
    await context.route(`${origin}/sdk/client.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: code }));
    await context.route(`${origin}/sdk/passkey.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: passkeyCode }));
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await page.goto(`${origin}/sockjs/info`);
    const a = await w.plainUser();

    const seen = await page.evaluate(async ({ username, password }) => {
      const sdk = await import('/sdk/client.js' as string);
      const pk = await import('/sdk/passkey.js' as string);
      // Adding the passkey is confirmed with the password: the user has no other factor yet.
      const setup = new sdk.RestClient({ url: '', onChallenge: async (ctx: { method: string }) => (ctx.method === 'password' ? sdk.sha256Hex(password) : null) });
      await setup.login(username, password);
      const { options } = await setup.post('users.webauthn.registerOptions');
      await setup.post('users.webauthn.register', { name: 'Virtual key', response: await pk.startRegistration({ optionsJSON: options }) });

      const calls: unknown[] = [];
      const passkey = pk.answerWithPasskey();
      const onChallenge = (ctx: { call: string; method: string; details: { webauthn?: unknown } }) => {
        calls.push([ctx.call, ctx.method, typeof ctx.details.webauthn]);
        return passkey(ctx);
      };
      const api = new sdk.RestClient({ url: '', onChallenge });
      await api.login(username, password);
      const pat = await api.post('users.generatePersonalAccessToken', { tokenName: 'passkey' });
      if (typeof pat.token !== 'string') throw new Error('no token');
      const ddp = await sdk.DdpClient.connect({ url: location.origin, onChallenge });
      await ddp.loginWithPassword(username, password);
      await ddp.close();
      return calls;
    }, { username: a.username, password: a.password });

    assert.deepEqual(seen, [
      ['/api/v1/login', 'webauthn', 'object'],
      ['/api/v1/users.generatePersonalAccessToken', 'webauthn', 'object'],
      ['login', 'webauthn', 'object'],
    ]);
  });

  it('logs in over REST and steps up a protected call, the hook asking outside the page for mailed codes', async () => {
    const a = await w.emailUser();
    const readMail = mailbox(w, a.address);
    await page.exposeFunction('readMailedCode', () => readMail());

    const result = await page.evaluate(async ({ username, password }) => {
      const sdk = await import('/sdk/client.js' as string);
      const seen: unknown[] = [];
      const api = new sdk.RestClient({
        url: '',
        onSessionChange: (s: unknown) => sessionStorage.setItem('session', JSON.stringify(s)),
        onChallenge: (ctx: { attempt: number; call: string; method: string }) => {
          seen.push([ctx.call, ctx.method, ctx.attempt]);
          return (window as unknown as { readMailedCode(): Promise<string> }).readMailedCode();
        },
      });
      await api.login(username, password);
      const me = await api.me();
      const pat = await api.post('users.generatePersonalAccessToken', { tokenName: 'browser' });
      // The person closes the dialog: the call ends with a typed error.
      const cancelled = new sdk.RestClient({ url: '', session: api.session, onChallenge: () => null });
      const refusal = await cancelled.post('users.2fa.disableEmail').then(() => null, (e: Error & { code: string }) =>
        ({ typed: e instanceof sdk.TwoFactorRequiredError, code: e.code }));
      return { seen, username: me.username, hasToken: typeof pat.token === 'string', stored: sessionStorage.getItem('session'), refusal };
    }, { username: a.username, password: a.password });

    assert.deepEqual(result.seen, [['/api/v1/login', 'email', 1], ['/api/v1/users.generatePersonalAccessToken', 'email', 1]]);
    assert.equal(result.username, a.username);
    assert.equal(result.hasToken, true);
    assert.equal(JSON.parse(result.stored!).userId, a.id);
    assert.deepEqual(result.refusal, { typed: true, code: 'totp-required' });
  });

  it('logs in over the browser\'s own WebSocket (DDP) with an authenticator code and answers a protected method', async () => {
    const a = await w.totpUser();
    await page.exposeFunction('authenticatorCode', () => nextTotp(w.clock, a.secret));

    const result = await page.evaluate(async ({ username, password }) => {
      const sdk = await import('/sdk/client.js' as string);
      const seen: unknown[] = [];
      const ddp = await sdk.DdpClient.connect({
        url: location.origin,
        onChallenge: (ctx: { attempt: number; call: string; method: string }) => {
          seen.push([ctx.call, ctx.method, ctx.attempt]);
          return (window as unknown as { authenticatorCode(): Promise<string> }).authenticatorCode();
        },
      });
      const login = await ddp.loginWithPassword(username, password);
      const token = await ddp.call('personalAccessTokens:generateToken', { tokenName: 'browser' });
      await ddp.close();
      return { seen, userId: ddp.userId, expiresIsDate: login.tokenExpires instanceof Date, hasToken: typeof token === 'string' };
    }, { username: a.username, password: a.password });

    assert.deepEqual(result.seen, [['login', 'totp', 1], ['personalAccessTokens:generateToken', 'totp', 1]]);
    assert.equal(result.userId, a.id);
    assert.equal(result.expiresIsDate, true);
    assert.equal(result.hasToken, true);
  });
});
