// Passkeys in a real browser (Debian's Chromium through playwright-core) with Chromium's
// virtual authenticator (DevTools `WebAuthn.addVirtualAuthenticator`): register a passkey,
// confirm a protected action with it, sign out, sign in with it as the second factor, and
// confirm another protected action with it. SQLite only: test/webauthn.test.ts covers both stores.
// The pages are served from http://localhost:<port> (browserWorld's `localhost`): browsers
// refuse an IP address as a WebAuthn relying party.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { browserWorld, skipWithoutChromium } from './helpers/browser.ts';

describe('passkeys in Chromium with a virtual authenticator (sqlite)', { skip: skipWithoutChromium }, () => {
  const w = browserWorld({}, { localhost: true, virtualAuthenticator: true });
  const { shot, heading, status } = w;

  async function signIn() {
    await w.fillCredentials('pat', 'pat secret pw');
    await w.page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('registers a passkey, signs in with it as the second factor and confirms protected actions with it', async () => {
    await w.t.addUser({ username: 'pat', password: 'pat secret pw' });
    await signIn();
    await heading('Account security');
    await heading('Passkeys and security keys');
    await w.page.getByLabel('Name of the new passkey').fill('Laptop');
    await w.page.getByRole('button', { name: 'Add a passkey' }).click();
    await status('The passkey “Laptop” is added.');
    assert.match(await w.page.getByTestId('passkey').first().innerText(), /^Laptop\b/);
    await shot('passkeys-added');
    assert.deepEqual(await w.axe(), []);

    await w.page.getByRole('button', { name: 'Turn on codes by email' }).click();
    await status('Codes by email are on.');

    await w.page.getByRole('button', { name: 'Sign out' }).click();
    await heading('Sign in');
    // Email is asked first (what Rocket.Chat's clients know); the passkey is offered beside it.
    await signIn();
    await heading('Check your email');
    await shot('passkeys-sign-in');
    await w.page.getByRole('button', { name: 'Use a passkey' }).click();
    await heading('Account security');
    assert.match(await w.page.getByTestId('passkey').first().innerText(), /last used/);

    await w.page.getByRole('button', { name: 'Turn off codes by email' }).click();
    await w.page.getByRole('dialog').getByRole('button', { name: 'Use a passkey' }).click();
    await status('Codes by email are off.');

    // The passkey is now the only method: removing it (always asked) is confirmed with it.
    await w.page.getByRole('button', { name: 'Remove Laptop' }).click();
    await heading('Use your passkey');
    await shot('passkeys-step-up');
    assert.deepEqual(await w.axe(), []);
    await w.page.getByRole('dialog').getByRole('button', { name: 'Use a passkey' }).click();
    await status('The passkey “Laptop” is removed.');
    assert.equal(await w.page.getByTestId('passkey').count(), 0);
    await shot('passkeys-removed');
  });
});
