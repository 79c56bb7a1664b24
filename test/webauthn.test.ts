import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ddpError, DdpTestClient, sha256 } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { SoftAuthenticator } from './helpers/webauthn.ts';

type Auth = { userId: string; authToken: string };

for (const store of storesUnderTest) {
  describe(`passkeys as a second factor (${store})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store, settings: { failureLimit: 3, webauthnMaxCredentials: 2 } });
    });
    after(() => t.close());

    const origin = () => t.url;
    const rpId = '127.0.0.1';

    /** A user with one passkey, registered over REST (a new account's grace lets registerOptions through). */
    async function withPasskey(username: string, opts: { email2fa?: boolean } = {}) {
      const user = await t.addUser({ username, password: `${username} pw` });
      const auth = await restLogin(t.url, username, `${username} pw`);
      const key = new SoftAuthenticator(rpId, origin());
      const started = await rest(t.url, 'POST', '/api/v1/users.webauthn.registerOptions', { auth });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      assert.equal(started.body.options.rp.id, rpId);
      const done = await rest(t.url, 'POST', '/api/v1/users.webauthn.register', { auth, body: { name: 'My key', response: key.register(started.body.options) } });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      if (opts.email2fa) await t.server.app.store.users.update(user.id, { email2faEnabled: true });
      return { auth, key, password: `${username} pw` };
    }

    const login = (username: string, password: string, headers: Record<string, string> = {}) =>
      rest(t.url, 'POST', '/api/v1/login', { body: { user: username, password }, headers });

    /** A fresh session (nothing remembered on it), signed in with the passkey. */
    async function restLoginWithPasskey(username: string, key: SoftAuthenticator): Promise<Auth> {
      const asked = await login(username, `${username} pw`);
      const ok = await login(username, `${username} pw`, { 'x-2fa-code': key.assert(asked.body.details.webauthn), 'x-2fa-method': 'webauthn' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      return { userId: ok.body.data.userId, authToken: ok.body.data.authToken };
    }

    it('a registered passkey is listed, asked for at sign-in and its assertion signs in', async () => {
      const { auth, key } = await withPasskey('pia');
      const listed = await rest(t.url, 'GET', '/api/v1/users.webauthn.list', { auth });
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.passkeys.map((p: { name: string }) => p.name), ['My key']);

      const asked = await login('pia', 'pia pw');
      assert.equal(asked.status, 401);
      assert.equal(asked.body.error, 'totp-required');
      assert.equal(asked.body.details.method, 'webauthn');
      assert.deepEqual(asked.body.details.availableMethods, ['webauthn']);
      assert.equal(asked.body.details.webauthn.rpId, rpId);
      assert.deepEqual(asked.body.details.webauthn.allowCredentials.map((c: { id: string }) => c.id), [key.credentialId.toString('base64url')]);

      const ok = await login('pia', 'pia pw', { 'x-2fa-code': key.assert(asked.body.details.webauthn), 'x-2fa-method': 'webauthn' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));

      // On DDP the assertion comes as the trailing {twoFactorCode, twoFactorMethod}, as Rocket.Chat's clients send codes.
      const ddp = await DdpTestClient.open(t.wsUrl);
      const ddpAsked = await ddpError(ddp.loginWithPassword('pia', 'pia pw'));
      assert.equal(ddpAsked.details?.method, 'webauthn');
      const request = { user: { username: 'pia' }, password: { digest: sha256('pia pw'), algorithm: 'sha-256' } };
      const options = (ddpAsked.details as { webauthn: { challenge: string } }).webauthn;
      const result = await ddp.call('login', request, { twoFactorCode: key.assert(options), twoFactorMethod: 'webauthn' }) as { type: string };
      assert.equal(result.type, 'password');
      ddp.close();
    });

    it('the same assertion is accepted once: a replay, even sent at the same time, is refused', async () => {
      const { key } = await withPasskey('ray');
      const asked = await login('ray', 'ray pw');
      const assertion = key.assert(asked.body.details.webauthn);
      const headers = { 'x-2fa-code': assertion, 'x-2fa-method': 'webauthn' };
      const both = await Promise.all([login('ray', 'ray pw', headers), login('ray', 'ray pw', headers)]);
      assert.deepEqual(both.map((r) => r.status).sort(), [200, 401]);
      const again = await login('ray', 'ray pw', headers);
      assert.equal(again.status, 401);
      assert.equal(again.body.error, 'totp-invalid');
    });

    it('an assertion made for another origin or with a counter that did not move is refused', async () => {
      const { key } = await withPasskey('ora');
      let asked = await login('ora', 'ora pw');
      const phished = await login('ora', 'ora pw', { 'x-2fa-code': key.assert(asked.body.details.webauthn, { origin: 'https://evil.example' }), 'x-2fa-method': 'webauthn' });
      assert.equal(phished.body.error, 'totp-invalid');
      asked = await login('ora', 'ora pw');
      assert.equal((await login('ora', 'ora pw', { 'x-2fa-code': key.assert(asked.body.details.webauthn, { counter: 5 }), 'x-2fa-method': 'webauthn' })).status, 200);
      asked = await login('ora', 'ora pw');
      const cloned = await login('ora', 'ora pw', { 'x-2fa-code': key.assert(asked.body.details.webauthn, { counter: 5 }), 'x-2fa-method': 'webauthn' });
      assert.equal(cloned.body.error, 'totp-invalid');
    });

    it('only the newest challenges stay live (TWOFOLD_WEBAUTHN_MAX_LIVE_CHALLENGES, default 5): an older one is refused', async () => {
      assert.equal(t.server.app.settings.webauthnMaxLiveChallenges, 5);
      const { key } = await withPasskey('old');
      const first = (await login('old', 'old pw')).body.details.webauthn;
      let newest = first;
      for (let i = 0; i < 5; i++) newest = (await login('old', 'old pw')).body.details.webauthn;
      const stale = await login('old', 'old pw', { 'x-2fa-code': key.assert(first), 'x-2fa-method': 'webauthn' });
      assert.equal(stale.body.error, 'totp-invalid');
      assert.equal((await login('old', 'old pw', { 'x-2fa-code': key.assert(newest), 'x-2fa-method': 'webauthn' })).status, 200);
    });

    it('wrong passkey answers spend the same failure budget as wrong codes', async () => {
      const { key } = await withPasskey('fay');
      const stranger = new SoftAuthenticator(rpId, origin());
      for (let i = 0; i < 3; i++) {
        const asked = await login('fay', 'fay pw');
        const wrong = await login('fay', 'fay pw', { 'x-2fa-code': stranger.assert(asked.body.details.webauthn), 'x-2fa-method': 'webauthn' });
        assert.equal(wrong.body.error, 'totp-invalid');
        assert.equal(wrong.body.details.attemptsLeft, 2 - i);
      }
      const asked = await login('fay', 'fay pw');
      const locked = await login('fay', 'fay pw', { 'x-2fa-code': key.assert(asked.body.details.webauthn), 'x-2fa-method': 'webauthn' });
      assert.equal(locked.body.error, 'totp-max-attempts');
    });

    it('a Rocket.Chat client that does not know passkeys gets email for a user with email and a passkey', async () => {
      const { key, auth } = await withPasskey('eve', { email2fa: true });
      const asked = await login('eve', 'eve pw');
      assert.equal(asked.body.details.method, 'email');
      assert.deepEqual(asked.body.details.availableMethods, ['email', 'webauthn']);
      assert.ok(asked.body.details.webauthn, 'a client that knows passkeys can still use one');

      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.call('login', { resume: auth.authToken });
      const ddpAsked = await ddpError(ddp.call('2fa:disable-email'));
      assert.equal(ddpAsked.error, 'totp-required');
      assert.equal(ddpAsked.details?.method, 'email');
      const options = (ddpAsked.details as { webauthn: { challenge: string } }).webauthn;
      assert.equal(await ddp.call('2fa:disable-email', { twoFactorCode: key.assert(options), twoFactorMethod: 'webauthn' }), true);
      // An unknown passkey is refused before any factor is asked for.
      const unknown = await ddpError(ddp.call('twofold:webauthnRemove', { id: 'nope' }));
      assert.equal(unknown.error, 'error-webauthn-not-found');
      // The seeds' wrapper takes a passkey's assertion too (longer than any code).
      const challenged = await ddpError(ddp.call('callWithTwoFactorRequired', { code: '', ddpMethod: 'twofold:webauthnList', method: 'webauthn', params: [] }));
      assert.equal(challenged.details?.method, 'webauthn');
      const wrapped = await ddp.call('callWithTwoFactorRequired', {
        code: key.assert((challenged.details as { webauthn: { challenge: string } }).webauthn), ddpMethod: 'twofold:webauthnList', method: 'webauthn', params: [],
      }) as { passkeys: unknown[] };
      assert.equal(wrapped.passkeys.length, 1);
      ddp.close();
    });

    it('removing a passkey always asks for a second factor, and a passkey answers it', async () => {
      const { auth, key } = await withPasskey('rex');
      const id = (await rest(t.url, 'GET', '/api/v1/users.webauthn.list', { auth })).body.passkeys[0].id as string;
      const asked = await rest(t.url, 'POST', '/api/v1/users.webauthn.remove', { auth, body: { id } });
      assert.equal(asked.body.errorType, 'totp-required');
      const removed = await rest(t.url, 'POST', '/api/v1/users.webauthn.remove', {
        auth, body: { id }, headers: { 'x-2fa-code': key.assert(asked.body.details.webauthn), 'x-2fa-method': 'webauthn' },
      });
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.deepEqual((await rest(t.url, 'GET', '/api/v1/users.webauthn.list', { auth })).body.passkeys, []);
      assert.equal((await login('rex', 'rex pw')).status, 200, 'no second factor left to ask for');
    });

    it('registering a passkey signs the user out everywhere else; an admin reset removes the passkeys', async () => {
      await t.addUser({ username: 'sid', password: 'sid pw' });
      const elsewhere = await restLogin(t.url, 'sid', 'sid pw');
      const auth = await restLogin(t.url, 'sid', 'sid pw');
      const key = new SoftAuthenticator(rpId, origin());
      const started = await rest(t.url, 'POST', '/api/v1/users.webauthn.registerOptions', { auth });
      assert.equal((await rest(t.url, 'POST', '/api/v1/users.webauthn.register', { auth, body: { name: 'k', response: key.register(started.body.options) } })).status, 200);
      assert.equal((await rest(t.url, 'GET', '/api/v1/users.webauthn.list', { auth: elsewhere })).status, 401, 'the other session is gone');
      assert.equal((await rest(t.url, 'GET', '/api/v1/users.webauthn.list', { auth })).status, 200, 'the session that registered it stays');

      await t.addUser({ username: 'boss', password: 'boss pw', roles: ['admin'] });
      const admin = await restLogin(t.url, 'boss', 'boss pw');
      const reset = await rest(t.url, 'POST', '/api/v1/users.2fa.reset', {
        auth: admin, body: { username: 'sid' }, headers: { 'x-2fa-code': sha256('boss pw'), 'x-2fa-method': 'password' },
      });
      assert.equal(reset.status, 200, JSON.stringify(reset.body));
      assert.equal(reset.body.passkeys, 1);
      assert.equal((await login('sid', 'sid pw')).status, 200, 'no passkey is asked for after the reset');
    });

    it('adding another passkey asks for the second factor first; past TWOFOLD_WEBAUTHN_MAX_CREDENTIALS it is refused', async () => {
      const { auth, key } = await withPasskey('two');
      const enrolment = await rest(t.url, 'GET', '/api/v1/users.2fa.enrolment', { auth });
      assert.deepEqual(enrolment.body.methods, ['webauthn']);
      const asked = await rest(t.url, 'POST', '/api/v1/users.webauthn.registerOptions', { auth });
      assert.equal(asked.body.errorType, 'totp-required');
      const stepUp = { 'x-2fa-code': key.assert(asked.body.details.webauthn), 'x-2fa-method': 'webauthn' };
      const started = await rest(t.url, 'POST', '/api/v1/users.webauthn.registerOptions', { auth, headers: stepUp });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      assert.deepEqual(started.body.options.excludeCredentials.map((c: { id: string }) => c.id), [key.credentialId.toString('base64url')]);
      const second = new SoftAuthenticator(rpId, origin());
      const added = await rest(t.url, 'POST', '/api/v1/users.webauthn.register', { auth, body: { name: 'Spare', response: second.register(started.body.options) } });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      const listed = await rest(t.url, 'GET', '/api/v1/users.webauthn.list', { auth });
      assert.deepEqual(listed.body.passkeys.map((p: { name: string }) => p.name), ['My key', 'Spare']);
      // Told before any factor is asked for.
      const full = await rest(t.url, 'POST', '/api/v1/users.webauthn.registerOptions', { auth: await restLoginWithPasskey('two', second) });
      assert.equal(full.body.errorType, 'error-webauthn-limit');
    });

    it('a registration answer for another origin or a used challenge is refused', async () => {
      await t.addUser({ username: 'reg', password: 'reg pw' });
      const auth: Auth = await restLogin(t.url, 'reg', 'reg pw');
      const key = new SoftAuthenticator(rpId, 'https://evil.example');
      const started = await rest(t.url, 'POST', '/api/v1/users.webauthn.registerOptions', { auth });
      const refused = await rest(t.url, 'POST', '/api/v1/users.webauthn.register', { auth, body: { name: 'k', response: key.register(started.body.options) } });
      assert.equal(refused.body.errorType, 'error-webauthn-registration-failed');
      const good = new SoftAuthenticator(rpId, origin());
      const reused = await rest(t.url, 'POST', '/api/v1/users.webauthn.register', { auth, body: { name: 'k', response: good.register(started.body.options) } });
      assert.equal(reused.body.errorType, 'error-webauthn-registration-failed', 'the challenge was spent by the first answer');
    });
  });
}
