// Messages that say what happened (issue 14 §3, §1), tried in Chromium as a person would,
// on a phone-sized screen: a wrong code with the tries left, a used code, an expired code
// with a new one on offer, a lockout and a send limit with live countdowns that hold back
// what may not be used yet, and a suspended second factor with the way back.
// The browser's timers run on Playwright's clock and the server's on a FakeClock, so no
// test waits for real time. SQLite only: the pages speak the same REST API on both stores.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeOf } from './helpers/smtp.ts';
import { restLogin } from './helpers/rest.ts';
import { browserWorld, skipWithoutChromium } from './helpers/browser.ts';
import { enrolOverRest, nextTotp, totpAt, wrongTotp } from './helpers/totp.ts';

describe('web pages: what a refusal says (sqlite)', { skip: skipWithoutChromium }, () => {
  // Three wrong codes in five minutes lock the second factor; two code mails need a minute between them.
  // Three wrong passwords for a name block its sign-ins for two minutes.
  const w = browserWorld({
    // An email code lives 8 minutes (not the default 10), so the prompt's wording is seen to come from the server.
    failureLimit: 3, failureWindow: 300, sendCodeUserInterval: 60, emailCodeTtl: 480, loginFailuresPerUser: 3, loginBlockSeconds: 120,
  });

  const verify = () => w.page.getByRole('button', { name: 'Verify' });
  const resend = () => w.page.getByRole('button', { name: 'Send a new code' });
  const countdown = () => w.page.getByTestId('countdown');

  async function signInToPrompt(user: string, password: string, address?: string): Promise<string | null> {
    await w.fillCredentials(user, password);
    const click = () => w.page.getByRole('button', { name: 'Sign in' }).click();
    if (!address) {
      await click();
      return null;
    }
    return w.t.mail.nextCode(address, click);
  }

  it('on a phone: a wrong code says so with the tries left, and the right one signs in', async () => {
    await w.usePhone();
    const { page, t, clock } = w;
    await t.addUser({ username: 'pam', password: 'pam pw', email: 'pam@example.com' });
    const { secret } = await enrolOverRest(t.url, await restLogin(t.url, 'pam', 'pam pw'), clock);
    await page.goto(`${t.url}/login`);
    await w.heading('Sign in');
    await w.shot('phone-sign-in');
    await signInToPrompt('pam', 'pam pw');
    await w.heading('Enter the code from your authenticator app');
    await w.shot('phone-code-prompt');
    await page.getByLabel('6-digit code').fill(wrongTotp(secret, clock.now()));
    await page.keyboard.press('Enter');
    await w.alert('That code is not right. Check it and try again. 2 tries left.');
    assert.equal(await page.getByLabel('6-digit code').inputValue(), '', 'a wrong 6-digit code is cleared for retyping');
    await w.shot('phone-code-wrong');
    await page.getByLabel('6-digit code').fill(nextTotp(clock, secret));
    await page.keyboard.press('Enter');
    await w.heading('Account security');
    // The page fits the phone: nothing wider than the screen.
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
  });

  it('a code the app showed before and that was already used is called used, not wrong', async () => {
    const { page, t, clock } = w;
    await t.addUser({ username: 'ursula', password: 'ursula pw', email: 'ursula@example.com' });
    const { secret } = await enrolOverRest(t.url, await restLogin(t.url, 'ursula', 'ursula pw'), clock);
    // enrolOverRest confirmed the app with the code of this very time step.
    await signInToPrompt('ursula', 'ursula pw');
    await page.getByLabel('6-digit code').fill(totpAt(secret, clock.now()));
    await page.keyboard.press('Enter');
    await w.alert(/^That code was already used\. Wait for the next code in your app, then type it\./);
    await w.shot('code-used');
  });

  it('an email code past its lifetime is called expired, a new one is on offer, and the prompt states the lifetime from the server', async () => {
    const { page, t, clock } = w;
    await t.addUser({ username: 'edna', password: 'edna pw', email: 'edna@example.com', email2fa: true });
    const code = await signInToPrompt('edna@example.com', 'edna pw', 'edna@example.com');
    await w.heading('Check your email');
    assert.match(await page.getByTestId('prompt-explanation').innerText(), /^We sent a code to e•••a@example\.com\. It is valid for 8 minutes, until \d{1,2}:\d\d( [AP]M)?\.$/);
    await w.shot('email-prompt-expiry');
    clock.advance(481);
    await page.getByLabel('Code from the email').fill(code!);
    await page.keyboard.press('Enter');
    await w.alert(/^That code has expired\. Ask for a new code\./);
    await w.shot('code-expired');
    // The way forward has the focus: Enter asks for a new code.
    await page.waitForFunction(() => document.activeElement?.textContent === 'Send a new code');
    const fresh = await t.mail.nextCode('edna@example.com', () => page.keyboard.press('Enter'));
    await w.status('We sent a new code to e•••a@example.com.');
    await page.getByLabel('Code from the email').fill(fresh);
    await page.keyboard.press('Enter');
    await w.heading('Account security');
  });

  it('signing in by username, the email prompt names the masked addresses the server mailed, with the expiry', async () => {
    const { page, t, clock } = w;
    const gwen = await t.addUser({ username: 'gwen', password: 'gwen pw', email: 'gwen@example.com', email2fa: true });
    clock.advance(1); // added after the first, so listed after it
    await t.server.app.store.users.addEmail(gwen.id, 'gk@example.org', true, clock.now());
    const code = await signInToPrompt('gwen', 'gwen pw', 'gwen@example.com');
    await w.heading('Check your email');
    assert.match(await page.getByTestId('prompt-explanation').innerText(),
      /^We sent a code to g•••n@example\.com and g•••@example\.org\. It is valid for 8 minutes, until \d{1,2}:\d\d( [AP]M)?\.$/);
    await w.shot('email-prompt-by-username');
    await page.getByLabel('Code from the email').fill(code!);
    await page.keyboard.press('Enter');
    await w.heading('Account security');
  });

  it('the last wrong code locks for minutes: a live countdown, Verify and "send a new code" held back until it ends', async () => {
    const { page, t, clock } = w;
    await page.clock.install();
    await t.addUser({ username: 'lars', password: 'lars pw', email: 'lars@example.com', email2fa: true });
    const code = await signInToPrompt('lars', 'lars pw', 'lars@example.com');
    const wrong = code === '000000' ? '111111' : '000000';
    for (const left of ['2 tries left.', '1 try left.']) {
      await page.getByLabel('Code from the email').fill(wrong);
      await page.keyboard.press('Enter');
      await w.alert(`That code is not right. Check it and try again. ${left}`);
    }
    await page.getByLabel('Code from the email').fill(wrong);
    await page.keyboard.press('Enter');
    await w.alert('That code is not right, and that was the last try for now. You can try again in 5 minutes.');
    await countdown().filter({ hasText: /^You can try again in 5:0[01]\.$/ }).waitFor();
    assert.equal(await verify().isDisabled(), true, 'Verify waits for the lockout');
    assert.equal(await resend().isDisabled(), true, 'a new code would not help during the lockout');
    await w.shot('locked-countdown');

    // The countdown is live.
    await page.clock.fastForward('02:00');
    await countdown().filter({ hasText: /^You can try again in 3:0[01]\.$/ }).waitFor();

    clock.advance(301);
    await page.clock.fastForward('03:02');
    await w.status('You can try again now.');
    assert.equal(await countdown().isHidden(), true);
    assert.equal(await verify().isDisabled(), false);
    assert.equal(await resend().isDisabled(), false);
    await page.getByLabel('Code from the email').fill(code!);
    await page.keyboard.press('Enter');
    await w.heading('Account security');
  });

  it('a lockout met on the next try also counts down, and says so', async () => {
    const { page, t, clock } = w;
    await page.clock.install();
    await t.addUser({ username: 'lou', password: 'lou pw', email: 'lou@example.com' });
    const { secret } = await enrolOverRest(t.url, await restLogin(t.url, 'lou', 'lou pw'), clock);
    await signInToPrompt('lou', 'lou pw');
    for (let i = 0; i < 3; i++) {
      await page.getByLabel('6-digit code').fill(wrongTotp(secret, clock.now()));
      await page.keyboard.press('Enter');
      await w.alert(/not right/);
    }
    // A new page (say, after a reload) meets the lockout on its first try.
    clock.advance(60);
    await signInToPrompt('lou', 'lou pw');
    await page.getByLabel('6-digit code').fill(nextTotp(clock, secret));
    await page.keyboard.press('Enter');
    await w.alert('Too many wrong codes. You can try again in 4 minutes.');
    // 300 s from the first failure, 90 s of which have passed (a minute and a fresh time step).
    await countdown().filter({ hasText: /^You can try again in 3:3[01]\.$/ }).waitFor();
    assert.equal(await verify().isDisabled(), true);
    await w.shot('locked-on-arrival');
  });

  it('asking for codes too often counts down to when the next one may be sent, with the link held back', async () => {
    const { page, t, clock } = w;
    await page.clock.install();
    await t.addUser({ username: 'sid', password: 'sid pw', email: 'sid@example.com', email2fa: true });
    await signInToPrompt('sid', 'sid pw', 'sid@example.com');
    await t.mail.nextCode('sid@example.com', () => resend().click());
    await w.status('We sent a new code to s•••d@example.com.');
    await resend().click();
    await w.alert('Please wait 60 seconds before asking for another code.');
    await countdown().filter({ hasText: /^You can ask for a new code in (1:00|0:59)\.$/ }).waitFor();
    assert.equal(await resend().isDisabled(), true, 'the link waits');
    assert.equal(await verify().isDisabled(), false, 'the code already sent can still be typed');
    await w.shot('send-wait-countdown');
    clock.advance(61);
    await page.clock.fastForward('01:01');
    await w.status('You can ask for a new code now.');
    const third = await t.mail.nextCode('sid@example.com', () => resend().click());
    // The mail can arrive before the page has the answer to its request; typing before the
    // page shows it would race the prompt's re-render.
    await w.status('We sent a new code to s•••d@example.com.');
    await page.getByLabel('Code from the email').fill(third);
    await page.keyboard.press('Enter');
    await w.heading('Account security');
  });

  it('too many wrong passwords hold back Sign in with a live countdown, then let the right one in', async () => {
    const { page, t, clock } = w;
    await page.clock.install();
    await t.addUser({ username: 'bo', password: 'bo pw', email: 'bo@example.com' });
    await page.goto(`${t.url}/login`);
    const signIn = page.getByRole('button', { name: 'Sign in' });
    for (let i = 0; i < 3; i++) {
      await page.getByLabel('Username or email').fill('bo');
      await page.getByLabel('Password', { exact: true }).fill(`wrong ${i}`);
      await signIn.click();
      await w.alert('The username or password is not right.');
      assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
    }
    await page.getByLabel('Password', { exact: true }).fill('bo pw');
    await signIn.click();
    await w.alert('Too many failed sign-ins. Try again in 2 minutes.');
    await countdown().filter({ hasText: /^You can sign in again in (2:00|1:59)\.$/ }).waitFor();
    assert.equal(await signIn.isDisabled(), true);
    await w.shot('sign-in-blocked');
    clock.advance(121);
    await page.clock.fastForward('02:01');
    await w.status('You can sign in again now.');
    assert.equal(await signIn.isDisabled(), false);
    await page.getByLabel('Password', { exact: true }).fill('bo pw');
    await signIn.click();
    await w.heading('Account security');
  });

  it('a suspended second factor at sign-in shows the way back instead of a code field, and the mailed recovery code lifts it', async () => {
    const { page, t } = w;
    const sue = await t.addUser({ username: 'sue', password: 'sue pw', email: 'sue@example.com', email2fa: true });
    // Suspended as 50 wrong codes in a row leave it (test/suspension.test.ts makes it happen for real).
    await t.server.app.store.db.insertInto('twofa_user_state')
      .values({ user_id: sue.id, failures_in_row: 50, enrol_failures: 0, recovery_attempts: 0, suspended_at: w.clock.now() }).execute();
    await signInToPrompt('sue', 'sue pw');
    await w.heading('Two-step verification is suspended');
    await w.alert(/codes are not accepted for this account until it is recovered/);
    assert.equal(await page.getByLabel('6-digit code').count(), 0, 'no code field to type into');
    assert.deepEqual(await w.axe(), []);
    await w.shot('suspended');
    const mailed = t.mail.waitFor((m) => m.to.includes('sue@example.com') && m.subject === 'Recovery code', 10_000, t.mail.messages.length);
    await page.getByRole('button', { name: 'Email me a recovery code' }).click();
    const recovery = codeOf(await mailed);
    await page.getByLabel('Recovery code').fill(recovery);
    await page.getByRole('button', { name: 'Lift the suspension' }).click();
    await w.heading('Sign in');
    await page.getByText('The suspension is lifted. Sign in again.').waitFor();
    assert.equal(await t.server.app.store.twoFactor.isSuspended(sue.id), false);
  });

  it('a suspension met in the step-up dialog shows the way back there, and Cancel returns to the page', async () => {
    const { page, t } = w;
    await t.addUser({ username: 'sal', password: 'sal pw', email: 'sal@example.com', email2fa: true });
    const code = await signInToPrompt('sal', 'sal pw', 'sal@example.com');
    await page.getByLabel('Code from the email').fill(code!);
    await page.keyboard.press('Enter');
    await w.heading('Account security');
    // The suspension is played here (the test above and test/suspension.test.ts reach it for real); the challenge itself is the real server's.
    await page.route('**/api/v1/users.2fa.disableEmail', (route) => (route.request().headers()['x-2fa-code']
      ? route.fulfill({ status: 403, contentType: 'application/json', body: JSON.stringify({ success: false, error: 'Second factor suspended [error-2fa-suspended]', errorType: 'error-2fa-suspended', details: { recover: '/api/v1/users.2fa.recover' } }) })
      : route.fallback()));
    const stepUp = await t.mail.nextCode('sal@example.com', () => page.getByRole('button', { name: 'Turn off codes by email' }).click());
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Code from the email').fill(stepUp);
    await page.keyboard.press('Enter');
    await dialog.getByRole('heading', { name: 'Two-step verification is suspended' }).waitFor();
    await dialog.getByRole('button', { name: 'Email me a recovery code' }).waitFor();
    assert.deepEqual(await w.axe(), []);
    await w.shot('step-up-suspended');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.activeElement?.textContent === 'Turn off codes by email');
    assert.match(await page.getByTestId('email-state').innerText(), /^On\b/);
  });
});
