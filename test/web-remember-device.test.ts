// Issue 14 §4 in a real browser: "remember this device" across a browser restart (Chromium with
// a persistent profile, closed and launched again on the same directory), a new tab that stays
// signed in, and forgetting the device on the sessions page. SQLite only, as the other web
// tests: test/remember-device.test.ts covers the API on both stores.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ensureWebBuilt } from '../scripts/build-web.ts';
import { FakeClock } from '../src/core/clock.ts';
import { CHROMIUM, SCREENSHOTS, skipWithoutChromium } from './helpers/browser.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

describe('remember this device in Chromium (sqlite)', { skip: skipWithoutChromium }, () => {
  let t: TestServer;
  let profile: string;
  const clock = new FakeClock();
  const problems: string[] = [];

  before(async () => {
    assert.ok(ensureWebBuilt({ quiet: true }), 'the web app builds (npm run build:web)');
    mkdirSync(SCREENSHOTS, { recursive: true });
    t = await startTestServer({ store: 'sqlite', clock });
    profile = mkdtempSync(join(tmpdir(), 'twofold-profile-'));
  });
  after(async () => {
    await t?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  /** The browser, on the same profile directory every time: what a restart keeps is on disk. */
  async function launch(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 900, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${t.url}/`) || url.startsWith('data:') || url.startsWith('blob:')) return route.fallback();
      problems.push(`request to ${url}`);
      return route.abort();
    });
    const watch = (page: Page) => {
      page.setDefaultTimeout(10_000);
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource: the server responded with a status of 4')) problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    };
    context.on('page', watch);
    const page = context.pages()[0] ?? await context.newPage();
    watch(page);
    return { context, page };
  }

  const heading = (page: Page, name: string) => page.getByRole('heading', { name, exact: true }).waitFor();
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  async function axe(page: Page): Promise<string[]> {
    await page.evaluate(axeSource);
    return page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } })
        .axe.run({ resultTypes: ['violations'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
  }
  async function fillCredentials(page: Page) {
    await page.goto(`${t.url}/login`);
    await page.getByLabel('Username or email').fill('remy');
    await page.getByLabel('Password', { exact: true }).fill('remy pw');
  }
  const codeMails = () => t.mail.messages.filter((m) => m.to.includes('remy@example.com') && m.subject === 'Authentication code').length;

  it('signs in with "remember this device", stays signed in in a new tab, skips the code after a restart until the device is forgotten', async () => {
    await t.addUser({ username: 'remy', password: 'remy pw', email2fa: true });
    clock.advance(t.server.app.settings.rememberFor + 1);

    // 1. Sign in with a code and tick the box.
    let { context, page } = await launch();
    await fillCredentials(page);
    const code = await t.mail.nextCode('remy@example.com', () => page.getByRole('button', { name: 'Sign in' }).click());
    await heading(page, 'Check your email');
    const box = page.getByRole('checkbox', { name: 'Remember this device for 30 days' });
    assert.equal(await box.isChecked(), false, 'remembering is opt-in');
    await page.getByLabel('Code from the email').fill(code);
    await box.check();
    await shot(page, 'remember-device-prompt');
    assert.deepEqual(await axe(page), []);
    await page.getByRole('button', { name: 'Verify' }).click();
    await heading(page, 'Account security');

    // 2. A new tab of the same browser is signed in too.
    const tab = await context.newPage();
    await tab.goto(`${t.url}/security`);
    await heading(tab, 'Account security');
    await shot(tab, 'remember-device-new-tab');
    await tab.close();

    // 3. Close the browser without signing out: after a restart the session is still there.
    //    Signing out in one tab signs the other tab out too.
    await context.close();
    ({ context, page } = await launch());
    await page.goto(`${t.url}/security`);
    await heading(page, 'Account security');
    const other = await context.newPage();
    await other.goto(`${t.url}/security/sessions`);
    await heading(other, 'Sessions and access');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await heading(page, 'Sign in');
    await heading(other, 'Sign in');
    assert.equal(await page.evaluate(() => localStorage.getItem('twofold.session')), null, 'signing out clears the session');
    assert.notEqual(await page.evaluate(() => localStorage.getItem('twofold.device')), null, 'the remembered device stays');
    await context.close();

    // 4. After another restart: the password alone signs in, and no code is mailed.
    ({ context, page } = await launch());
    clock.advance(61);
    const mailed = codeMails();
    await fillCredentials(page);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading(page, 'Account security');
    assert.equal(codeMails(), mailed, 'no code was mailed');
    await shot(page, 'remember-device-after-restart');

    // 5. The sessions page lists the device, and forgets it.
    await page.getByRole('link', { name: 'Sessions', exact: true }).click();
    await heading(page, 'Sessions and access');
    const devices = page.getByTestId('devices').locator('li');
    await devices.first().waitFor();
    assert.equal(await devices.count(), 1);
    assert.match(await page.getByTestId('devices').innerText(), /Address 127\.0\.0\.1/);
    await page.getByTestId('events').getByText('Signed in on a remembered device (no code asked)').waitFor();
    await shot(page, 'remember-device-sessions');
    assert.deepEqual(await axe(page), []);
    await page.getByRole('button', { name: /^Forget / }).click();
    await page.getByRole('status').filter({ hasText: 'That device is forgotten' }).waitFor();
    assert.equal(await page.getByTestId('devices').innerText(), 'No remembered devices.');

    // 6. Forgotten: the next sign-in asks for a code again.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await heading(page, 'Sign in');
    clock.advance(61);
    await fillCredentials(page);
    await t.mail.nextCode('remy@example.com', () => page.getByRole('button', { name: 'Sign in' }).click());
    await heading(page, 'Check your email');
    await shot(page, 'remember-device-forgotten-asks');
    await context.close();
    assert.deepEqual(problems, []);
  });
});
