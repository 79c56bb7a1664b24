// Passkeys in a real browser (Debian's Chromium through playwright-core) with Chromium's
// virtual authenticator (DevTools `WebAuthn.addVirtualAuthenticator`): register a passkey,
// confirm a protected action with it, sign out, sign in with it as the second factor, and
// confirm another protected action with it. SQLite only: test/webauthn.test.ts covers both stores.
// The pages are served from http://localhost:<port>: browsers refuse an IP address as a
// WebAuthn relying party, and localhost is a secure context over plain HTTP.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureWebBuilt } from '../scripts/build-web.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const CHROMIUM = '/usr/bin/chromium';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SCREENSHOTS = fileURLToPath(new URL('../test-output/screenshots/', import.meta.url));
const skip = !existsSync(CHROMIUM) && !process.env.CI
  ? `${CHROMIUM} is missing: install Debian's chromium package to run the browser tests`
  : false;

describe('passkeys in Chromium with a virtual authenticator (sqlite)', { skip }, () => {
  let t: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  const problems: string[] = [];

  before(async () => {
    assert.ok(ensureWebBuilt({ quiet: true }), 'the web app builds (npm run build:web)');
    mkdirSync(SCREENSHOTS, { recursive: true });
    t = await startTestServer({ store: 'sqlite' });
    base = t.url.replace('127.0.0.1', 'localhost');
    // The origin the browser reports; the relying party ID (localhost) follows from it.
    t.server.app.settings.webauthnOrigin = base;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: { width: 900, height: 900 } });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${base}/`) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      problems.push(`request to ${url}`);
      return route.abort();
    });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource: the server responded with a status of 4')) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  async function axeProblems(): Promise<string[]> {
    await page.evaluate(axeSource);
    return page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } })
        .axe.run({ resultTypes: ['violations'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
  }
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const heading = (name: string) => page.getByRole('heading', { name, exact: true }).waitFor();
  const status = (text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).waitFor();

  async function signIn() {
    await page.goto(`${base}/login`);
    await page.getByLabel('Username or email').fill('pat');
    await page.getByLabel('Password', { exact: true }).fill('pat secret pw');
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('registers a passkey, signs in with it as the second factor and confirms protected actions with it', async () => {
    await t.addUser({ username: 'pat', password: 'pat secret pw' });
    await signIn();
    await heading('Account security');
    await heading('Passkeys and security keys');
    await page.getByLabel('Name of the new passkey').fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await status('The passkey “Laptop” is added.');
    assert.match(await page.getByTestId('passkey').first().innerText(), /^Laptop\b/);
    await shot('passkeys-added');
    assert.deepEqual(await axeProblems(), []);

    await page.getByRole('button', { name: 'Turn on codes by email' }).click();
    await status('Codes by email are on.');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading('Sign in');
    // Email is asked first (what Rocket.Chat's clients know); the passkey is offered beside it.
    await signIn();
    await heading('Check your email');
    await shot('passkeys-sign-in');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await heading('Account security');
    assert.match(await page.getByTestId('passkey').first().innerText(), /last used/);

    await page.getByRole('button', { name: 'Turn off codes by email' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Use a passkey' }).click();
    await status('Codes by email are off.');

    // The passkey is now the only method: removing it (always asked) is confirmed with it.
    await page.getByRole('button', { name: 'Remove Laptop' }).click();
    await heading('Use your passkey');
    await shot('passkeys-step-up');
    assert.deepEqual(await axeProblems(), []);
    await page.getByRole('dialog').getByRole('button', { name: 'Use a passkey' }).click();
    await status('The passkey “Laptop” is removed.');
    assert.equal(await page.getByTestId('passkey').count(), 0);
    await shot('passkeys-removed');
    assert.deepEqual(problems, []);
  });
});
