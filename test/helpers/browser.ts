// The pages in a real browser for the web test files: Debian's Chromium through
// playwright-core, a real server with real SMTP, one fresh browser context per test, and
// axe-core for the accessibility checks. Call `browserWorld()` inside a describe().
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, beforeEach } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureWebBuilt } from '../../scripts/build-web.ts';
import type { Settings } from '../../src/config/settings.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { startTestServer, type TestServer } from './server.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
// CI installs Chromium (.ci/run), so there a missing browser is a failure, not a skip.
export const skipWithoutChromium = !existsSync(CHROMIUM) && !process.env.CI
  ? `${CHROMIUM} is missing: install Debian's chromium package to run the browser tests`
  : false;

export const PHONE = { width: 390, height: 844 };

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface BrowserWorldOptions {
  /** Let the pages read and write the clipboard (the copy buttons). */
  clipboard?: boolean;
  /**
   * Serve the pages at http://localhost:<port> instead of 127.0.0.1: browsers refuse an IP
   * address as a WebAuthn relying party, and localhost is a secure context over plain HTTP.
   * The server's WebAuthn origin follows.
   */
  localhost?: boolean;
  /** A Chromium virtual authenticator (DevTools `WebAuthn.addVirtualAuthenticator`) in each context: a passkey that answers by itself. */
  virtualAuthenticator?: boolean;
}

export interface BrowserWorld {
  readonly t: TestServer;
  /** Where the pages are served: the server's URL, or its localhost form. */
  readonly url: string;
  readonly page: Page;
  readonly context: BrowserContext;
  readonly clock: FakeClock;
  /** Requests to other origins, console errors, page errors: each test ends with none. */
  readonly problems: string[];
  /** A new page of its own size (the phone), in a fresh context like every test's. */
  usePhone(): Promise<void>;
  shot(name: string): Promise<void>;
  heading(name: string): Promise<void>;
  alert(text: string | RegExp): Promise<void>;
  status(text: string | RegExp): Promise<void>;
  fillCredentials(user: string, password: string): Promise<void>;
  /** axe-core on the page as it is now: the serious and critical violations, as readable lines. */
  axe(): Promise<string[]>;
}

export function browserWorld(settings: Partial<Settings> = {}, options: BrowserWorldOptions = {}): BrowserWorld {
  let t: TestServer;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const clock = new FakeClock();

  async function openContext(viewport: { width: number; height: number }) {
    context = await browser.newContext({ acceptDownloads: true, viewport, hasTouch: viewport.width < 500 });
    if (options.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    // Everything is served by Twofold itself: any other request is a bug (and is not sent).
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${base}/`) || url.startsWith('data:') || url.startsWith('blob:')) return route.fallback();
      problems.push(`request to ${url}`);
      return route.abort();
    });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      // Chromium logs every 4xx answer; refusals (401 totp-required, 400 totp-invalid) are expected here.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource: the server responded with a status of 4')) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    if (options.virtualAuthenticator) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
    }
  }

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing`);
    assert.ok(ensureWebBuilt({ quiet: true }), 'the web app builds (npm run build:web)');
    mkdirSync(SCREENSHOTS, { recursive: true });
    t = await startTestServer({ store: 'sqlite', clock, settings });
    base = options.localhost ? t.url.replace('127.0.0.1', 'localhost') : t.url;
    // The origin the browser reports; the relying party ID (localhost) follows from it.
    if (options.localhost) t.server.app.settings.webauthnOrigin = base;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });
  beforeEach(async () => {
    problems.length = 0;
    await openContext({ width: 900, height: 900 });
  });
  afterEach(async () => {
    await context.close();
    // A CSP violation or a script error shows up here.
    assert.deepEqual(problems, []);
  });

  return {
    get t() { return t; },
    get url() { return base; },
    get page() { return page; },
    get context() { return context; },
    clock,
    problems,
    async usePhone() {
      await context.close();
      await openContext(PHONE);
    },
    shot: async (name) => { await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true }); },
    heading: (name) => page.getByRole('heading', { name, exact: true }).waitFor(),
    alert: (text) => page.getByRole('alert').filter({ hasText: text }).waitFor(),
    status: (text) => page.getByRole('status').filter({ hasText: text }).waitFor(),
    async fillCredentials(user, password) {
      await page.goto(`${base}/login`);
      await page.getByLabel('Username or email').fill(user);
      await page.getByLabel('Password', { exact: true }).fill(password);
    },
    async axe() {
      // Evaluated through the DevTools protocol, which the page's CSP (script-src 'self') does not
      // govern: the pages are checked under their real policy, with nothing relaxed for the test.
      if (!await page.evaluate(() => 'axe' in window)) await page.evaluate(AXE_SOURCE);
      const violations = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
      });
      return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.targets.join(', ')}`);
    },
  };
}
