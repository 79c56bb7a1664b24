// Accessibility and polish of the pages in Chromium (issue 14 §8): axe-core finds no serious
// violation on any page, focus goes back to the opener of a dialog, the focus ring stands
// out, refused fields say so to a screen reader, the QR code has a link for phones, unknown
// paths get the app's own page, and backup codes can be printed and copied.
// SQLite only: the pages speak the same REST API whichever store is behind it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rest, restLogin } from './helpers/rest.ts';
import { browserWorld, skipWithoutChromium } from './helpers/browser.ts';
import { enrolOverRest, nextTotp, wrongTotp } from './helpers/totp.ts';

/** WCAG relative luminance contrast of two `rgb(…)` colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

describe('web pages: accessibility and polish (sqlite)', { skip: skipWithoutChromium }, () => {
  const w = browserWorld({ sendCodeUserInterval: 60 });

  /** No serious or critical axe violation here; a screenshot of what was checked. */
  async function clean(name: string) {
    assert.deepEqual(await w.axe(), [], `axe on ${name}`);
    await w.shot(`a11y-${name}`);
  }

  async function signIn(user: string, password: string) {
    await w.fillCredentials(user, password);
    await w.page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('axe finds no serious violation on the pages a visitor sees, on a desktop and on a phone', async () => {
    const { page, t } = w;
    await page.goto(`${t.url}/login`);
    await w.heading('Sign in');
    // The check itself can fail: an input without a label is a critical violation.
    await page.evaluate(() => document.querySelector('form')!.append(Object.assign(document.createElement('input'), { id: 'unlabelled' })));
    assert.match((await w.axe()).join('\n'), /critical label: .*#unlabelled/);
    await page.evaluate(() => document.getElementById('unlabelled')!.remove());
    await clean('login');
    // An empty sign-in: the field in error says so, and says why.
    await page.getByRole('button', { name: 'Sign in' }).click();
    await w.alert('Type your username or email and your password.');
    const user = page.getByLabel('Username or email');
    assert.equal(await user.getAttribute('aria-invalid'), 'true');
    const describedBy = (await user.getAttribute('aria-describedby')) ?? '';
    assert.equal(await page.locator(`[id="${describedBy.split(' ')[0]}"]`).innerText(), 'Type your username or email and your password.');
    await clean('login-error');
    await page.goto(`${t.url}/register`);
    await w.heading('Create an account');
    await clean('register');
    await page.goto(`${t.url}/verify-email#token=nope`);
    await w.heading('Email not verified');
    await clean('verify-email-failed');

    await w.usePhone();
    await w.page.goto(`${t.url}/login`);
    await w.heading('Sign in');
    await clean('phone-login');
    await w.page.goto(`${t.url}/register`);
    await w.heading('Create an account');
    await clean('phone-register');
  });

  it('an unknown path gets the app\'s own not-found page with status 404, not JSON', async () => {
    const { page, t } = w;
    const res = await page.goto(`${t.url}/settings/old-link`);
    assert.equal(res?.status(), 404);
    await w.heading('Page not found');
    assert.match(await page.getByTestId('not-found').innerText(), /There is no page at \/settings\/old-link/);
    assert.equal(await page.title(), 'Page not found · Twofold');
    await clean('not-found');
    await page.getByRole('link', { name: 'Sign in' }).last().click();
    await w.heading('Sign in');
    // The API keeps its JSON 404.
    assert.equal((await rest(t.url, 'GET', '/api/v1/no.such.endpoint')).body.errorType, 'error-not-found');
  });

  it('the code prompts, the security page, the app set-up and the backup codes pass axe; the QR code has a link for phones', async () => {
    const { page, t, clock } = w;
    await t.addUser({ username: 'ada', password: 'ada pw', email: 'ada@example.com', email2fa: true });
    await w.fillCredentials('ada@example.com', 'ada pw');
    await t.mail.nextCode('ada@example.com', () => page.getByRole('button', { name: 'Sign in' }).click());
    await w.heading('Check your email');
    await clean('prompt-email');
    await page.getByLabel('Code from the email').fill('000000');
    await page.keyboard.press('Enter');
    await w.alert(/not right/);
    const field = page.getByLabel('Code from the email');
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    const errorId = ((await field.getAttribute('aria-describedby')) ?? '').split(' ')[0];
    assert.match(await page.locator(`[id="${errorId}"]`).innerText(), /^That code is not right\./);
    await clean('prompt-email-wrong');
    // Typing again clears the mark.
    await field.fill('1');
    assert.equal(await field.getAttribute('aria-invalid'), null);

    clock.advance(61);
    const code = await t.mail.nextCode('ada@example.com', () => page.getByRole('button', { name: 'Send a new code' }).click());
    // The mail can arrive before the browser has the answer and redraws the prompt with a new field.
    await w.status(/We sent a new code/);
    await field.fill(code);
    await page.keyboard.press('Enter');
    await w.heading('Account security');
    await clean('security');

    const stepUp = await t.mail.nextCode('ada@example.com', () => page.getByRole('button', { name: 'Set up authenticator app' }).click());
    await page.getByRole('dialog').getByText('To set up an authenticator app, confirm it is you.').waitFor();
    await clean('step-up-dialog');
    await page.keyboard.type(stepUp);
    await page.keyboard.press('Enter');
    const link = page.getByTestId('otpauth-link');
    await link.waitFor();
    const href = (await link.getAttribute('href')) ?? '';
    const secret = (await page.getByTestId('totp-secret').innerText()).replace(/\s/g, '');
    assert.match(href, /^otpauth:\/\/totp\//);
    assert.equal(new URL(href).searchParams.get('secret'), secret, 'the link adds the same key as the QR code');
    await clean('totp-setup');
    await page.getByLabel('6-digit code').fill(nextTotp(clock, secret));
    await page.getByRole('button', { name: 'Turn on', exact: true }).click();
    await w.heading('Save your backup codes');
    await clean('backup-codes');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await w.status('The authenticator app is on.');
    await clean('security-totp-on');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn('ada', 'ada pw');
    await w.heading('Enter the code from your authenticator app');
    await clean('prompt-totp');
    await page.getByRole('button', { name: 'Use a backup code' }).click();
    await w.heading('Enter a backup code');
    await clean('prompt-backup');
  });

  it('focus goes back to the button that opened a dialog, and the focus ring has at least 3:1 contrast', async () => {
    const { page, t, clock } = w;
    await t.addUser({ username: 'fay', password: 'fay pw', email: 'fay@example.com' });
    const { secret } = await enrolOverRest(t.url, await restLogin(t.url, 'fay', 'fay pw'), clock);
    await signIn('fay', 'fay pw');
    await page.getByLabel('6-digit code').fill(nextTotp(clock, secret));
    await page.keyboard.press('Enter');
    await w.heading('Account security');

    const opener = page.getByRole('button', { name: 'Make new backup codes' });
    await opener.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.activeElement?.textContent === 'Make new backup codes');

    await opener.focus();
    await page.keyboard.press('Enter');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.activeElement?.textContent === 'Make new backup codes');

    // The ring of a keyboard-focused control against what is around it: the card and the page.
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return { width: parseFloat(style.outlineWidth), colour: style.outlineColor, card: getComputedStyle(el.closest('.card') ?? document.body).backgroundColor, page: getComputedStyle(document.body).backgroundColor || 'rgb(255, 255, 255)' };
    });
    assert.ok(ring.width >= 2, `outline ${ring.width}px`);
    for (const around of [ring.card, 'rgb(244, 246, 248)', 'rgb(255, 255, 255)']) {
      assert.ok(contrast(ring.colour, around) >= 3, `focus ring ${ring.colour} on ${around}: ${contrast(ring.colour, around).toFixed(2)}:1`);
    }
  });

  it('backup codes can be printed (only the codes reach the paper) and copied', async () => {
    const { page, t, clock, context } = w;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
    await t.addUser({ username: 'gus', password: 'gus pw', email: 'gus@example.com' });
    const { secret } = await enrolOverRest(t.url, await restLogin(t.url, 'gus', 'gus pw'), clock);
    await signIn('gus', 'gus pw');
    await page.getByLabel('6-digit code').fill(nextTotp(clock, secret));
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Make new backup codes' }).click();
    await page.keyboard.type(nextTotp(clock, secret));
    await page.keyboard.press('Enter');
    await w.heading('Save your backup codes');
    const codes = await page.getByTestId('backup-codes').locator('li').allInnerTexts();

    await page.getByRole('button', { name: 'Copy codes' }).click();
    await w.status('Codes copied.');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    for (const c of codes) assert.ok(copied.includes(c), 'the copy has every code');

    // window.print() opens the browser's dialog; the print style sheet decides what is on paper.
    await page.evaluate(() => { window.print = () => { document.body.dataset.printed = 'yes'; }; });
    await page.getByRole('button', { name: 'Print codes' }).click();
    assert.equal(await page.evaluate(() => document.body.dataset.printed), 'yes');
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), false, 'the page around the codes is not printed');
    assert.equal(await page.getByRole('button', { name: 'Copy codes' }).isVisible(), false, 'nor the buttons');
    assert.equal(await page.getByTestId('backup-codes').isVisible(), true);
    await w.shot('backup-codes-print');
    await page.emulateMedia({ media: 'screen' });
  });

  it('a wrong authenticator code marks the field, and axe is clean with the refusal shown', async () => {
    const { page, t, clock } = w;
    await t.addUser({ username: 'hal', password: 'hal pw', email: 'hal@example.com' });
    const { secret } = await enrolOverRest(t.url, await restLogin(t.url, 'hal', 'hal pw'), clock);
    await signIn('hal', 'hal pw');
    await page.getByLabel('6-digit code').fill(wrongTotp(secret, clock.now()));
    await page.keyboard.press('Enter');
    await w.alert(/^That code is not right\. Check it and try again\. \d+ tries left\.$/);
    assert.equal(await page.getByLabel('6-digit code').getAttribute('aria-invalid'), 'true');
    await clean('prompt-totp-wrong');
    await page.getByLabel('6-digit code').fill(nextTotp(clock, secret));
    await page.keyboard.press('Enter');
    await w.heading('Account security');
  });
});
