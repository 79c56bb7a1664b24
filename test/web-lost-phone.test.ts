// A lost phone in the browser (issue 14 §1): a user with the authenticator app and email codes
// signs in with an emailed code, turns the lost app off with another, enrols a new app and
// signs in with it. Screenshots of each step go to test-output/screenshots/lost-*.png.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { browserWorld, skipWithoutChromium } from './helpers/browser.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { enrolOverRest, nextTotp, totpAt } from './helpers/totp.ts';

describe('lost phone recovery in Chromium (sqlite)', { skip: skipWithoutChromium }, () => {
  const w = browserWorld();
  // Forget this browser's session (kept in localStorage so that new tabs stay signed in).
  // Signed in: sign out as a person would (clearing storage under a live page makes its
  // requests in flight fail). Otherwise forget any session this browser kept in localStorage.
  const signOutLocally = async () => {
    const signOut = w.page.getByRole('button', { name: 'Sign out' });
    if (w.page.url().startsWith(w.t.url) && await signOut.count() > 0) {
      await signOut.click();
      await w.status('You are signed out.');
      return;
    }
    if (!w.page.url().startsWith(w.t.url)) await w.page.goto(`${w.t.url}/login`);
    await w.page.evaluate(() => { localStorage.clear(); sessionStorage.clear(); });
  };
  const { clock, shot, heading, status, fillCredentials } = w;

  /** A user with the app on and, unless told otherwise, email codes too. */
  async function withApp(username: string, email2fa = true) {
    const address = `${username}@example.com`;
    await w.t.addUser({ username, password: `${username} pw`, email: address });
    const auth = await restLogin(w.t.url, username, `${username} pw`);
    const { secret } = await enrolOverRest(w.t.url, auth, clock);
    if (email2fa) assert.equal((await rest(w.t.url, 'POST', '/api/v1/users.2fa.enableEmail', { auth })).status, 200);
    return { address, secret };
  }

  it('full recovery: sign in by email, turn the lost app off by email, enrol a new app, sign in with it', async () => {
    const { address, secret: lostSecret } = await withApp('lena');
    const dialog = w.page.getByRole('dialog');

    // 1. Sign in: the page asks for the app; the person has no phone and takes the email way.
    await fillCredentials('lena', 'lena pw');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Enter the code from your authenticator app');
    await shot('lost-1-sign-in-asks-app');
    const loginCode = await w.t.mail.nextCode(address, () => w.page.getByRole('button', { name: 'Send a code by email instead' }).click());
    await heading('Check your email');
    await w.page.getByLabel('Code from the email').fill(loginCode);
    await w.page.keyboard.press('Enter');
    await heading('Account security');

    // 2. Turn the lost app off: its prompt offers an emailed code too.
    await w.page.getByRole('button', { name: 'Turn off authenticator app' }).click();
    await dialog.getByText('To turn off the authenticator app, confirm it is you.').waitFor();
    await dialog.getByRole('button', { name: 'Send a code by email instead' }).waitFor();
    assert.deepEqual(await w.axe(), []);
    await shot('lost-2-turn-off-prompt');
    const offCode = await w.t.mail.nextCode(address, () => dialog.getByRole('button', { name: 'Send a code by email instead' }).click());
    await dialog.getByRole('heading', { name: 'Check your email' }).waitFor();
    assert.match(await dialog.getByTestId('prompt-explanation').innerText(), /lena@example\.com/);
    // A wrong code is refused in words and leaves the app on.
    await dialog.getByLabel('Code from the email').fill(offCode === '000000' ? '111111' : '000000');
    await w.page.keyboard.press('Enter');
    await dialog.getByRole('alert').filter({ hasText: /not right/ }).waitFor();
    await shot('lost-3-turn-off-by-email-wrong');
    await dialog.getByLabel('Code from the email').fill(offCode);
    await w.page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await status('The authenticator app is off.');
    assert.match(await w.page.getByTestId('totp-state').innerText(), /^Off\b/);
    await shot('lost-4-app-off');

    // 3. Enrol a new app: setting one up asks a second factor, which now is an emailed code.
    const enrolCode = await w.t.mail.nextCode(address, () => w.page.getByRole('button', { name: 'Set up authenticator app' }).click());
    await dialog.getByRole('heading', { name: 'Check your email' }).waitFor();
    await dialog.getByText('To set up an authenticator app, confirm it is you.').waitFor();
    await dialog.getByLabel('Code from the email').fill(enrolCode);
    await w.page.keyboard.press('Enter');
    await w.page.getByRole('heading', { name: '1. Add this account to your app' }).waitFor();
    const newSecret = (await w.page.getByTestId('totp-secret').innerText()).replace(/\s/g, '');
    assert.notEqual(newSecret, lostSecret);
    await w.page.getByLabel('6-digit code').fill(nextTotp(clock, newSecret));
    await w.page.getByRole('button', { name: 'Turn on' }).click();
    await heading('Save your backup codes');
    await w.page.getByRole('button', { name: 'I have saved them' }).click();
    await status('The authenticator app is on.');
    await shot('lost-5-new-app-on');

    // 4. Sign in again with the new app; the lost phone's codes are worthless.
    await signOutLocally();
    await fillCredentials('lena', 'lena pw');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Enter the code from your authenticator app');
    clock.advance(30);
    await w.page.getByLabel('6-digit code').fill(totpAt(lostSecret, clock.now()));
    await w.page.keyboard.press('Enter');
    await w.page.getByRole('alert').filter({ hasText: /not right/ }).waitFor();
    await w.page.getByLabel('6-digit code').fill(nextTotp(clock, newSecret));
    await w.page.keyboard.press('Enter');
    await heading('Account security');
    assert.match(await w.page.getByTestId('totp-state').innerText(), /^On\b/);
    await shot('lost-6-signed-in-with-new-app');
  });

  it('new backup codes by email; without email codes the prompt offers only the app and backup codes', async () => {
    const { address, secret } = await withApp('milo');
    const dialog = w.page.getByRole('dialog');
    await signOutLocally();
    await fillCredentials('milo', 'milo pw');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await w.page.getByLabel('6-digit code').fill(nextTotp(clock, secret));
    await w.page.keyboard.press('Enter');
    await heading('Account security');
    await w.page.getByRole('button', { name: 'Make new backup codes' }).click();
    const code = await w.t.mail.nextCode(address, () => dialog.getByRole('button', { name: 'Send a code by email instead' }).click());
    await dialog.getByLabel('Code from the email').fill(code);
    await w.page.keyboard.press('Enter');
    await heading('Save your backup codes');
    assert.equal((await w.page.getByTestId('backup-codes').locator('li').allInnerTexts()).length, 12);
    await shot('lost-7-new-backup-codes-by-email');
    await w.page.getByRole('button', { name: 'I have saved them' }).click();

    const { secret: ninaSecret } = await withApp('nina', false);
    await signOutLocally();
    await fillCredentials('nina', 'nina pw');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await w.page.getByLabel('6-digit code').fill(nextTotp(clock, ninaSecret));
    await w.page.keyboard.press('Enter');
    await heading('Account security');
    await w.page.getByRole('button', { name: 'Turn off authenticator app' }).click();
    await dialog.getByRole('button', { name: 'Use a backup code' }).waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Send a code by email instead' }).count(), 0);
  });
});
