// Issue 14 §5–§7 in a real browser (Debian's Chromium through playwright-core) against a
// real server: sessions, access tokens and activity; backup codes to print, download, copy
// and type; the banner for unprotected accounts and roles that must enrol first. SQLite
// only, as test/web.test.ts: the REST API's own tests (test/my-security.test.ts) cover both stores.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { browserWorld, skipWithoutChromium } from './helpers/browser.ts';
import { rest } from './helpers/rest.ts';
import { BACKUP_CODE, nextTotp } from './helpers/totp.ts';

describe('sessions, backup codes and enrolment in Chromium (sqlite)', { skip: skipWithoutChromium }, () => {
  // Only admins must enrol first; every other user here is a plain user. The copy buttons need the clipboard.
  const w = browserWorld({ requireTwoFactorForRoles: ['admin'] }, { clipboard: true });
  const { clock, shot, heading, status, alert } = w;

  async function signIn(user: string, password: string) {
    await w.fillCredentials(user, password);
    await w.page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function restSession(user: string, password: string, agent: string) {
    const res = await rest(w.t.url, 'POST', '/api/v1/login', { body: { user, password }, headers: { 'user-agent': agent } });
    assert.equal(res.status, 200);
    return { userId: res.body.data.userId as string, authToken: res.body.data.authToken as string };
  }

  it('an account without a second factor is nudged on the security page', async () => {
    await w.t.addUser({ username: 'una', password: 'una pw' });
    await signIn('una', 'una pw');
    await heading('Account security');
    await w.page.getByRole('heading', { name: 'Your account has no second factor' }).waitFor();
    await shot('security-no-2fa-banner');
    assert.deepEqual(await w.axe(), []);
    await w.page.getByRole('button', { name: 'Turn on codes by email' }).click();
    await status('Codes by email are on.');
    assert.equal(await w.page.getByTestId('no-2fa-banner').count(), 0, 'the banner goes once a second factor is on');
  });

  it('lists where the user is signed in, signs one session out, then everywhere else, and shows the activity', async () => {
    await w.t.addUser({ username: 'sid', password: 'sid pw' });
    const laptop = await restSession('sid', 'sid pw', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0');
    const phone = await restSession('sid', 'sid pw', 'Mozilla/5.0 (iPhone) Safari/605.1');
    await signIn('sid', 'sid pw');
    await heading('Account security');
    await w.page.getByRole('link', { name: 'Sessions', exact: true }).click();
    await heading('Sessions and access');
    const sessions = w.page.getByTestId('sessions').locator('li');
    await sessions.first().waitFor();
    assert.equal(await sessions.count(), 3);
    const text = await w.page.getByTestId('sessions').innerText();
    assert.match(text, /This browser/);
    assert.match(text, /Firefox on Linux/);
    assert.match(text, /Safari on iPhone/);
    assert.match(text, /Address 127\.0\.0\.1/);
    assert.match(text, /not used since signing in/);
    assert.equal(await w.page.getByTestId('devices').innerText(), 'No remembered devices.');
    await w.page.getByTestId('events').getByText('Signed in').first().waitFor();
    await shot('sessions');
    assert.deepEqual(await w.axe(), []);

    await w.page.getByRole('button', { name: 'Sign out Safari on iPhone' }).click();
    await status('That session is signed out.');
    assert.equal((await rest(w.t.url, 'GET', '/api/v1/me', { auth: phone })).status, 401);
    assert.equal((await rest(w.t.url, 'GET', '/api/v1/me', { auth: laptop })).status, 200);

    await w.page.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await status('Signed out everywhere else (1 session).');
    assert.equal((await rest(w.t.url, 'GET', '/api/v1/me', { auth: laptop })).status, 401);
    assert.equal(await sessions.count(), 1);
    await w.page.getByText('You are not signed in anywhere else.').waitFor();
    await w.page.getByTestId('events').getByText('Signed out everywhere else').waitFor();
    await shot('sessions-signed-out-elsewhere');

    await w.page.getByRole('button', { name: /\(this browser\)$/ }).click();
    await status('You are signed out.');
    await heading('Sign in');
  });

  it('creates a personal access token with a second factor, copies it, and revokes it', async () => {
    const user = await w.t.addUser({ username: 'pat', password: 'pat pw', email: 'pat@example.com', email2fa: true });
    const loginCode = await w.t.mail.nextCode('pat@example.com', () => signIn('pat', 'pat pw'));
    await heading('Check your email');
    await w.page.getByLabel('Code from the email').fill(loginCode);
    await w.page.keyboard.press('Enter');
    await heading('Account security');
    await w.page.goto(`${w.t.url}/security/sessions`);
    await heading('Sessions and access');
    await w.page.getByText('You have no personal access tokens.').waitFor();
    await w.page.getByLabel('Token name').fill('deploy bot');
    const code = await w.t.mail.nextCode('pat@example.com', () => w.page.getByRole('button', { name: 'Create token' }).click());
    const dialog = w.page.getByRole('dialog');
    await dialog.getByText('To create an access token, confirm it is you.').waitFor();
    await shot('token-step-up');
    await w.page.getByLabel('Code from the email').fill(code);
    await w.page.keyboard.press('Enter');
    await status('Token “deploy bot” created.');
    const token = (await w.page.getByTestId('new-token').locator('p code').last().innerText()).trim();
    assert.equal((await rest(w.t.url, 'GET', '/api/v1/me', { auth: { userId: user.id, authToken: token } })).status, 200, 'the token shown works');
    await w.page.getByRole('button', { name: 'Copy token' }).click();
    await status('Token copied.');
    assert.equal(await w.page.evaluate(() => navigator.clipboard.readText()), token);
    await shot('token-created');
    assert.deepEqual(await w.axe(), []);

    // Creating a token always asks and is not remembered, so revoking asks for a code too.
    const again = await w.t.mail.nextCode('pat@example.com', () => w.page.getByRole('button', { name: 'Revoke deploy bot' }).click());
    await dialog.getByText('To revoke the token “deploy bot”, confirm it is you.').waitFor();
    await w.page.getByLabel('Code from the email').fill(again);
    await w.page.keyboard.press('Enter');
    await status('Token “deploy bot” revoked.');
    assert.equal((await rest(w.t.url, 'GET', '/api/v1/me', { auth: { userId: user.id, authToken: token } })).status, 401);
  });

  it('backup codes are printed, downloaded and copied, and typed in any case, with the text kept after a miss', async () => {
    await w.t.addUser({ username: 'bea', password: 'bea pw' });
    await signIn('bea', 'bea pw');
    await heading('Account security');
    await w.page.getByRole('button', { name: 'Set up authenticator app' }).click();
    await w.page.getByTestId('totp-secret').waitFor();
    const secret = (await w.page.getByTestId('totp-secret').innerText()).replace(/\s/g, '');
    await w.page.getByLabel('6-digit code').fill(nextTotp(clock, secret));
    await w.page.getByRole('button', { name: 'Turn on', exact: true }).click();
    await heading('Save your backup codes');
    const codes = await w.page.getByTestId('backup-codes').locator('li').allInnerTexts();
    assert.equal(codes.length, 12);
    for (const c of codes) assert.match(c, BACKUP_CODE);
    await shot('backup-codes-typeable');
    assert.deepEqual(await w.axe(), []);

    // Print: the browser's dialog, with a stylesheet that prints the codes alone.
    await w.page.evaluate(() => {
      (window as unknown as { printed: number }).printed = 0;
      window.print = () => { (window as unknown as { printed: number }).printed++; };
    });
    await w.page.getByRole('button', { name: 'Print codes' }).click();
    assert.equal(await w.page.evaluate(() => (window as unknown as { printed: number }).printed), 1);
    await w.page.emulateMedia({ media: 'print' });
    // Whatever the style sheet's selectors, on paper: the codes, and neither the page around them nor the buttons.
    const printed = await w.page.evaluate(() => {
      // Inline, not a named helper: the test's transpiler would wrap a named function in a helper the page lacks.
      const v = { visibilityProperty: true };
      return {
        header: document.querySelector('header')!.checkVisibility(v),
        heading: document.querySelector('h1')!.checkVisibility(v),
        codes: [...document.querySelectorAll('[data-testid="backup-codes"] li')].every((el) => el.checkVisibility(v)),
        buttons: [...document.querySelectorAll('button')].some((el) => el.checkVisibility(v)),
      };
    });
    assert.deepEqual(printed, { header: false, heading: false, codes: true, buttons: false });
    await shot('backup-codes-print');
    await w.page.emulateMedia({ media: 'screen' });

    const [download] = await Promise.all([w.page.waitForEvent('download'), w.page.getByRole('button', { name: 'Download codes' }).click()]);
    assert.equal(download.suggestedFilename(), 'twofold-backup-codes.txt');
    const saved = readFileSync(await download.path(), 'utf8');
    for (const c of codes) assert.ok(saved.includes(c));
    await w.page.getByRole('button', { name: 'Copy codes' }).click();
    await status('Codes copied.');
    const clip = await w.page.evaluate(() => navigator.clipboard.readText());
    for (const c of codes) assert.ok(clip.includes(c));
    await w.page.getByRole('button', { name: 'I have saved them' }).click();
    await status('The authenticator app is on.');

    await w.page.getByRole('button', { name: 'Sign out' }).click();
    await status('You are signed out.');
    await w.page.getByLabel('Username or email').fill('bea');
    await w.page.getByLabel('Password', { exact: true }).fill('bea pw');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await w.page.getByRole('button', { name: 'Use a backup code' }).click();
    await heading('Enter a backup code');
    const field = w.page.getByLabel('Backup code', { exact: true });
    // One character mistyped: the field keeps the text, so only that character is fixed.
    const code = codes[0]!;
    const typo = `${code.slice(0, 10)}${code[10] === 'a' ? 'b' : 'a'}`.toUpperCase();
    await field.fill(typo);
    await w.page.keyboard.press('Enter');
    // However the page words it, it says the code is not right.
    await alert(/not right/);
    assert.equal(await field.inputValue(), typo);
    await shot('backup-code-miss');
    // Upper case and without the dash: still the same code.
    await field.fill(code.replace('-', '').toUpperCase());
    await w.page.keyboard.press('Enter');
    await heading('Account security');
    await w.page.getByTestId('codes-left').filter({ hasText: 'Backup codes left: 11.' }).waitFor();
  });

  it('a role that must enrol is sent to the security page until it has a second factor', async () => {
    await w.t.addUser({ username: 'ada', password: 'ada pw', roles: ['user', 'admin'], email: 'ada@example.com' });
    await signIn('ada', 'ada pw');
    await heading('Account security');
    await w.page.getByRole('heading', { name: 'Set up a second factor to continue' }).waitFor();
    await shot('security-enrolment-required');
    await w.page.goto(`${w.t.url}/security/sessions`);
    await heading('Account security');
    await status('Your account needs a second factor before you can do anything else.');
    assert.equal(new URL(w.page.url()).pathname, '/security');
    await shot('enrolment-required-redirect');
    assert.deepEqual(await w.axe(), []);

    await w.page.getByRole('button', { name: 'Turn on codes by email' }).click();
    await status('Codes by email are on.');
    assert.equal(await w.page.getByTestId('no-2fa-banner').count(), 0);
    await w.page.getByRole('link', { name: 'Sessions', exact: true }).click();
    await heading('Sessions and access');
  });
});
