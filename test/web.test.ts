// The web pages in a real browser: Debian's Chromium driven through playwright-core,
// against a real server with real SMTP. These run on SQLite only: the pages speak the same
// REST API whichever store is behind it, and the API's own tests cover both stores.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { browserWorld, skipWithoutChromium } from './helpers/browser.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { BACKUP_CODE, enrolOverRest, nextTotp } from './helpers/totp.ts';

describe('web pages in Chromium (sqlite)', { skip: skipWithoutChromium }, () => {
  // The production wait between two email codes (test servers relax it): the pages show it.
  const w = browserWorld({ sendCodeUserInterval: 60 });
  const { clock, shot, heading, alert, status, fillCredentials } = w;
  // The pages move focus on the next animation frame: wait for it (briefly) before reading it.
  const focusedField = async () => {
    await w.page.waitForFunction(() => document.activeElement?.tagName === 'INPUT', undefined, { timeout: 2000 }).catch(() => undefined);
    return readFocusedField();
  };
  const readFocusedField = () => w.page.evaluate(() => {
    const el = document.activeElement as HTMLInputElement | null;
    return el?.tagName === 'INPUT' ? { label: el.labels?.[0]?.textContent ?? '', autocomplete: el.autocomplete } : null;
  });

  async function signInWithEmailCode(user: string, address: string, password: string) {
    await fillCredentials(user, password);
    const code = await w.t.mail.nextCode(address, () => w.page.getByRole('button', { name: 'Sign in' }).click());
    await heading('Check your email');
    await w.page.getByLabel('Code from the email').fill(code);
    await w.page.keyboard.press('Enter');
    await heading('Account security');
  }

  it('a new user creates an account, confirms the email from the link, and turns on codes by email', async () => {
    await w.page.goto(`${w.t.url}/`);
    await heading('Sign in');
    assert.equal(new URL(w.page.url()).pathname, '/login');
    await w.page.getByRole('link', { name: 'Create an account' }).click();
    await heading('Create an account');
    await w.page.getByLabel('Username').fill('nina');
    await w.page.getByLabel('Email').fill('nina@example.com');
    await w.page.getByLabel('Password', { exact: true }).fill('nina secret pw');
    await w.page.getByLabel('Password again').fill('nina secret pw');
    await shot('register');
    const mailed = w.t.mail.waitFor((m) => m.to.includes('nina@example.com') && m.subject === 'Verify your email address');
    await w.page.getByRole('button', { name: 'Create account' }).click();
    await heading('Check your email');

    const link = (await mailed).text.match(/https?:\/\/\S+\/verify-email#token=\S+/)?.[0] ?? '';
    assert.ok(link.startsWith(`${w.t.url}/verify-email#token=`), 'the mail links to this server');
    await w.page.goto(link);
    await heading('Email verified');
    await status('Your address nina@example.com is confirmed');
    assert.equal(w.page.url(), `${w.t.url}/verify-email`, 'the token leaves the address bar');
    await shot('verify-email');

    await w.page.getByRole('link', { name: 'Sign in' }).last().click();
    await w.page.getByLabel('Username or email').fill('nina');
    await w.page.getByLabel('Password', { exact: true }).fill('nina secret pw');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Account security');
    assert.equal(await w.page.evaluate(() => location.href.includes('token') || document.cookie !== ''), false, 'no token in the URL or a cookie');
    await w.page.getByRole('button', { name: 'Turn on codes by email' }).click();
    await status('Codes by email are on. They go to nina@example.com.');
    assert.match(await w.page.getByTestId('email-state').innerText(), /^On\b/);
    await shot('security');
  });

  it('a wrong or used verification link is explained in words', async () => {
    await w.page.goto(`${w.t.url}/verify-email#token=not-a-real-token`);
    await heading('Email not verified');
    await alert('This link is not valid any more. Ask for a new one.');
    assert.equal(w.page.url(), `${w.t.url}/verify-email`);
  });

  it('signing in with an email code: the page says where the code went, refuses a wrong code in words, and sends a new code on request', async () => {
    await w.t.addUser({ username: 'erin', password: 'erin pw', email: 'erin@example.com', email2fa: true });
    await fillCredentials('erin@example.com', 'erin pw');
    const first = await w.t.mail.nextCode('erin@example.com', () => w.page.getByRole('button', { name: 'Sign in' }).click());
    await heading('Two-step verification');
    await heading('Check your email');
    assert.match(await w.page.getByTestId('prompt-explanation').innerText(), /We sent a code to e•••n@example\.com/);
    assert.deepEqual(await focusedField(), { label: 'Code from the email', autocomplete: 'one-time-code' });
    await shot('login-email-code');

    await w.page.getByLabel('Code from the email').fill(first === '000000' ? '111111' : '000000');
    await w.page.keyboard.press('Enter');
    await alert('That code is not right. Check it and try again.');

    clock.advance(61); // past the per-user wait after the sign-in's own code
    const second = await w.t.mail.nextCode('erin@example.com', () => w.page.getByRole('button', { name: 'Send a new code' }).click());
    await status('We sent a new code to e•••n@example.com.');
    // People paste the code as it is shown in the mail.
    await w.page.getByLabel('Code from the email').fill(`${second.slice(0, 3)}-${second.slice(3)}`);
    await w.page.getByRole('button', { name: 'Verify' }).click();
    await heading('Account security');
    await status('You are signed in.');
  });

  it('a new email code right after sign-in is sent; asking again at once says how long to wait', async () => {
    await w.t.addUser({ username: 'walt', password: 'walt pw', email: 'walt@example.com', email2fa: true });
    await fillCredentials('walt', 'walt pw');
    await w.t.mail.nextCode('walt@example.com', () => w.page.getByRole('button', { name: 'Sign in' }).click());
    await heading('Check your email');
    // The sign-in's own code does not hold back "send again" (spec §3.6)…
    await w.t.mail.nextCode('walt@example.com', () => w.page.getByRole('button', { name: 'Send a new code' }).click());
    await status('We sent a new code to w•••t@example.com.');
    // …but two requests in a row wait for the per-user interval.
    await w.page.getByRole('button', { name: 'Send a new code' }).click();
    await alert('Please wait 60 seconds before asking for another code.');
    await shot('login-email-wait');
  });

  it('setting up the authenticator app shows a QR code and key, then 12 backup codes once; the next sign-in asks for the app', async () => {
    await w.t.addUser({ username: 'tara', password: 'tara pw', email: 'tara@example.com' });
    await fillCredentials('tara', 'tara pw');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Account security');
    await w.page.getByRole('button', { name: 'Set up authenticator app' }).click();
    const qr = w.page.getByRole('img', { name: 'QR code that adds this account to an authenticator app' });
    await qr.waitFor();
    assert.ok(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), 'the QR code image loads under the CSP');
    const secret = (await w.page.getByTestId('totp-secret').innerText()).replace(/\s/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.deepEqual(await focusedField(), { label: '6-digit code', autocomplete: 'one-time-code' });
    await shot('totp-setup');

    await w.page.getByLabel('6-digit code').fill(nextTotp(clock, secret));
    await w.page.getByRole('button', { name: 'Turn on', exact: true }).click();
    await heading('Save your backup codes');
    const codes = await w.page.getByTestId('backup-codes').locator('li').allInnerTexts();
    assert.equal(codes.length, 12);
    for (const c of codes) assert.match(c, BACKUP_CODE);
    await shot('backup-codes');
    const [download] = await Promise.all([w.page.waitForEvent('download'), w.page.getByRole('button', { name: 'Download codes' }).click()]);
    assert.equal(download.suggestedFilename(), 'twofold-backup-codes.txt');
    const saved = readFileSync(await download.path(), 'utf8');
    for (const c of codes) assert.ok(saved.includes(c), 'the download has every code');
    await w.page.getByRole('button', { name: 'I have saved them' }).click();
    await status('The authenticator app is on.');
    await w.page.getByTestId('codes-left').filter({ hasText: 'Backup codes left: 12.' }).waitFor();
    assert.equal(await w.page.getByTestId('backup-codes').count(), 0, 'the codes are not shown again');

    await w.page.getByRole('button', { name: 'Sign out' }).click();
    await status('You are signed out.');
    await w.page.getByLabel('Username or email').fill('tara');
    await w.page.getByLabel('Password', { exact: true }).fill('tara pw');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Enter the code from your authenticator app');
    assert.deepEqual(await focusedField(), { label: '6-digit code', autocomplete: 'one-time-code' });
    await shot('login-totp');
    await w.page.keyboard.type(nextTotp(clock, secret));
    await w.page.keyboard.press('Enter');
    await heading('Account security');
  });

  it('a backup code signs in once, and the page counts the codes left', async () => {
    await w.t.addUser({ username: 'bert', password: 'bert pw', email: 'bert@example.com' });
    const { codes } = await enrolOverRest(w.t.url, await restLogin(w.t.url, 'bert', 'bert pw'), clock);
    const signIn = async () => {
      await fillCredentials('bert', 'bert pw');
      await w.page.getByRole('button', { name: 'Sign in' }).click();
      await heading('Enter the code from your authenticator app');
      await w.page.getByRole('button', { name: 'Use a backup code' }).click();
      await heading('Enter a backup code');
      assert.deepEqual(await focusedField(), { label: 'Backup code', autocomplete: 'one-time-code' });
      await w.page.getByLabel('Backup code', { exact: true }).fill(codes[0]!);
    };
    await signIn();
    await shot('login-backup-code');
    await w.page.keyboard.press('Enter');
    await heading('Account security');
    await w.page.getByTestId('codes-left').filter({ hasText: 'Backup codes left: 11.' }).waitFor();

    await w.page.getByRole('button', { name: 'Sign out' }).click();
    await status('You are signed out.');
    await signIn();
    await w.page.keyboard.press('Enter');
    await alert('That backup code is not right, or it was already used. Check it and try again.');
    // A long code is corrected, not retyped: the field keeps it.
    assert.equal(await w.page.getByLabel('Backup code', { exact: true }).inputValue(), codes[0]);
  });

  it('making new backup codes and turning the app off each ask for a code from the app', async () => {
    await w.t.addUser({ username: 'otto', password: 'otto pw', email: 'otto@example.com' });
    const { secret, codes: oldCodes } = await enrolOverRest(w.t.url, await restLogin(w.t.url, 'otto', 'otto pw'), clock);
    await fillCredentials('otto', 'otto pw');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await w.page.getByLabel('6-digit code').fill(nextTotp(clock, secret));
    await w.page.keyboard.press('Enter');
    await w.page.getByTestId('codes-left').filter({ hasText: 'Backup codes left: 12.' }).waitFor();

    await w.page.getByRole('button', { name: 'Make new backup codes' }).click();
    const dialog = w.page.getByRole('dialog');
    await dialog.getByText('To make new backup codes, confirm it is you.').waitFor();
    assert.deepEqual(await focusedField(), { label: '6-digit code', autocomplete: 'one-time-code' });
    await w.page.keyboard.type(nextTotp(clock, secret));
    await w.page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await heading('Save your backup codes');
    const codes = await w.page.getByTestId('backup-codes').locator('li').allInnerTexts();
    assert.equal(codes.length, 12);
    assert.equal(codes.filter((c) => oldCodes.includes(c)).length, 0, 'all new');
    await w.page.getByRole('button', { name: 'I have saved them' }).click();
    await status('You have 12 new backup codes.');

    await w.page.getByRole('button', { name: 'Turn off authenticator app' }).click();
    await dialog.getByText('To turn off the authenticator app, confirm it is you.').waitFor();
    await dialog.getByRole('button', { name: 'Use a backup code' }).click();
    // The codes from before the new ones no longer work.
    await dialog.getByLabel('Backup code', { exact: true }).fill(oldCodes[0]!);
    await w.page.keyboard.press('Enter');
    await dialog.getByRole('alert').filter({ hasText: 'That backup code is not right, or it was already used.' }).waitFor();
    await shot('step-up-totp-off');
    await dialog.getByLabel('Backup code', { exact: true }).fill(codes[0]!);
    await w.page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await status('The authenticator app is off.');
    assert.match(await w.page.getByTestId('totp-state').innerText(), /^Off\b/);
  });

  it('turning codes by email off asks for a code in a dialog and retries the same action (step-up)', async () => {
    await w.t.addUser({ username: 'stan', password: 'stan pw', email: 'stan@example.com', email2fa: true });
    await signInWithEmailCode('stan', 'stan@example.com', 'stan pw');
    clock.advance(61); // past the per-user wait after the sign-in's code

    const code = await w.t.mail.nextCode('stan@example.com', () => w.page.getByRole('button', { name: 'Turn off codes by email' }).click());
    const dialog = w.page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByText('To turn off codes by email, confirm it is you.').waitFor();
    assert.match(await dialog.getByTestId('prompt-explanation').innerText(), /We sent a code to stan@example\.com/);
    assert.deepEqual(await focusedField(), { label: 'Code from the email', autocomplete: 'one-time-code' });
    // Escape is a cancel: nothing changes.
    await w.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.match(await w.page.getByTestId('email-state').innerText(), /^On\b/);

    // The code mailed a moment ago is still good: the second try says so instead of mailing another.
    await w.page.getByRole('button', { name: 'Turn off codes by email' }).click();
    await dialog.getByText('We already sent a code to stan@example.com').waitFor();
    await shot('step-up-dialog');
    await w.page.keyboard.type(code);
    await w.page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await status('Codes by email are off.');
    assert.match(await w.page.getByTestId('email-state').innerText(), /^Off\b/);
    const me = await rest(w.t.url, 'GET', '/api/v1/me', { auth: await restLogin(w.t.url, 'stan', 'stan pw') });
    assert.equal(me.body.services.email2fa.enabled, false);
  });

  it('changing the password without a second factor set up asks for the current password', async () => {
    await w.t.addUser({ username: 'pia', password: 'old pia pw', email: 'pia@example.com' });
    await fillCredentials('pia', 'old pia pw');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Account security');
    await w.page.getByLabel('New password', { exact: true }).fill('new pia pw');
    await w.page.getByLabel('New password again').fill('new pia pw');
    await w.page.getByRole('button', { name: 'Change password' }).click();
    const dialog = w.page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Confirm with your password' }).waitFor();
    assert.deepEqual(await focusedField(), { label: 'Current password', autocomplete: 'current-password' });
    await w.page.keyboard.type('not my password');
    await w.page.keyboard.press('Enter');
    await dialog.getByRole('alert').filter({ hasText: 'That password is not right.' }).waitFor();
    await shot('step-up-password');
    await dialog.getByLabel('Current password').fill('old pia pw');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.waitFor({ state: 'detached' });
    await status(/^Your password is changed\./);

    assert.equal((await rest(w.t.url, 'POST', '/api/v1/login', { body: { user: 'pia', password: 'old pia pw' } })).status, 401);
    await restLogin(w.t.url, 'pia', 'new pia pw');
  });

  it('at sign-in a user with the app and email codes can switch to an email code', async () => {
    await w.t.addUser({ username: 'mona', password: 'mona pw', email: 'mona@example.com' });
    const auth = await restLogin(w.t.url, 'mona', 'mona pw');
    await enrolOverRest(w.t.url, auth, clock);
    assert.equal((await rest(w.t.url, 'POST', '/api/v1/users.2fa.enableEmail', { auth })).status, 200);
    await fillCredentials('mona', 'mona pw');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Enter the code from your authenticator app');
    const code = await w.t.mail.nextCode('mona@example.com', () => w.page.getByRole('button', { name: 'Send a code by email instead' }).click());
    await heading('Check your email');
    // The challenge names where the code went (masked), though mona signed in by username.
    assert.match(await w.page.getByTestId('prompt-explanation').innerText(), /^We sent a code to m•••a@example\.com\. It is valid for 10 minutes/);
    await w.page.getByLabel('Code from the email').fill(code);
    await w.page.keyboard.press('Enter');
    await heading('Account security');
  });

  it('pages carry the security headers, and unknown API paths still answer JSON', async () => {
    for (const path of ['/', '/login', '/security', '/verify-email']) {
      const res = await fetch(`${w.t.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'.*script-src 'self'/);
      assert.doesNotMatch(res.headers.get('content-security-policy') ?? '', /unsafe-inline|https?:/);
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.doesNotMatch(await res.text(), /<script>|<script [^>]*>[^<]/, 'no inline script');
    }
    const missing = await rest(w.t.url, 'GET', '/api/v1/no.such.endpoint');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.errorType, 'error-not-found');
    assert.equal((await rest(w.t.url, 'POST', '/api/v1/no.such.endpoint', { body: {} })).body.errorType, 'error-not-found');
  });
});
