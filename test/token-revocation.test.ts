// Issue 11 point 1: personal access tokens — bypassTwoFactor ones above all — do not
// outlive a change to how the account is protected, and a bypass token never stands in for
// a second factor where the server always asks for one.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ddpError, DdpTestClient, sha256 } from './helpers/ddp.ts';
import { passwordCode, twoFactorWorld, type Account, type Auth, type TwoFactorWorld } from './helpers/rest-2fa.ts';
import { restLogin } from './helpers/rest.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { nextTotp } from './helpers/totp.ts';

const passwordHeaders = (a: Account) => ({ 'x-2fa-code': passwordCode(a), 'x-2fa-method': 'password' });
const emailHeaders = (code: string) => ({ 'x-2fa-code': code, 'x-2fa-method': 'email' });

for (const store of storesUnderTest) {
  describe(`personal access tokens are revoked when the account's protection changes (${store})`, () => {
    let w: TwoFactorWorld;
    let admin: Account;
    let adminAuth: Auth;
    before(async () => {
      w = await twoFactorWorld(store);
      admin = await w.plainUser({ roles: ['user', 'admin'] });
      adminAuth = await w.login(admin);
    });
    after(() => w.t.close());

    const alive = async (userId: string, authToken: string) => (await w.call('GET', '/api/v1/me', { auth: { userId, authToken } })).status === 200;

    /** A bypassTwoFactor token for a user with no method (the password confirms). */
    async function bypassToken(a: Account, auth: Auth, name = 'robot', headers: Record<string, string> = passwordHeaders(a)): Promise<string> {
      const made = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: name, bypassTwoFactor: true }, headers });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.ok(await alive(a.id, made.body.token));
      return made.body.token;
    }

    it('a password change revokes every token but the login it was made from', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const other = await w.login(u);
      const pat = await bypassToken(u, auth);
      const changed = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { newPassword: 'a new one' } }, headers: passwordHeaders(u) });
      assert.equal(changed.status, 200);
      assert.equal(await alive(u.id, pat), false);
      assert.equal(await alive(u.id, other.authToken), false);
      assert.equal(await alive(u.id, auth.authToken), true);
    });

    it('an admin password reset, an admin TOTP reset and a deactivation revoke every token', async () => {
      for (const change of [
        (id: string) => w.call('POST', '/api/v1/users.update', { auth: adminAuth, body: { userId: id, data: { password: 'reset by admin' } }, headers: passwordHeaders(admin) }),
        (id: string) => w.call('POST', '/api/v1/users.resetTOTP', { auth: adminAuth, body: { userId: id }, headers: passwordHeaders(admin) }),
        (id: string) => w.call('POST', '/api/v1/users.update', { auth: adminAuth, body: { userId: id, data: { active: false } }, headers: passwordHeaders(admin) }),
      ]) {
        const u = await w.plainUser();
        const auth = await w.login(u);
        const pat = await bypassToken(u, auth);
        assert.equal((await change(u.id)).status, 200);
        // Active again (a no-op for the first two): the token stays dead.
        assert.equal((await w.call('POST', '/api/v1/users.update', { auth: adminAuth, body: { userId: u.id, data: { active: true } }, headers: passwordHeaders(admin) })).status, 200);
        assert.equal(await alive(u.id, pat), false, change.toString());
        assert.equal(await alive(u.id, auth.authToken), false, change.toString());
      }
    });

    it('enabling and disabling email codes revoke every token but the login it was made from', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const pat = await bypassToken(u, auth);
      assert.equal((await w.call('POST', '/api/v1/users.2fa.enableEmail', { auth })).status, 200);
      assert.equal(await alive(u.id, pat), false, 'enable');
      assert.equal(await alive(u.id, auth.authToken), true);

      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'two', bypassTwoFactor: true } }));
      const pat2 = await bypassToken(u, auth, 'two', emailHeaders(code));
      const offCode = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.2fa.disableEmail', { auth }));
      assert.equal((await w.call('POST', '/api/v1/users.2fa.disableEmail', { auth, headers: emailHeaders(offCode) })).status, 200);
      assert.equal(await alive(u.id, pat2), false, 'disable');
      assert.equal(await alive(u.id, auth.authToken), true);
    });

    it('enrolling and disabling an authenticator app revoke every token but the login it was made from', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const pat = await bypassToken(u, auth);
      const started = await w.call('POST', '/api/v1/users.totp.enable', { auth, headers: passwordHeaders(u) });
      const secret = started.body.secret as string;
      assert.equal((await w.call('POST', '/api/v1/users.totp.validate', { auth, body: { code: nextTotp(w.clock, secret) } })).status, 200);
      assert.equal(await alive(u.id, pat), false, 'enrol');
      assert.equal(await alive(u.id, auth.authToken), true);

      const pat2 = await bypassToken(u, auth, 'two', { 'x-2fa-code': nextTotp(w.clock, secret), 'x-2fa-method': 'totp' });
      assert.equal((await w.call('POST', '/api/v1/users.totp.disable', { auth, body: { code: nextTotp(w.clock, secret) } })).status, 200);
      assert.equal(await alive(u.id, pat2), false, 'disable');
      assert.equal(await alive(u.id, auth.authToken), true);
    });

    it('a bypass token used to make the change is revoked with the others', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const pat = await bypassToken(u, auth);
      assert.equal((await w.call('POST', '/api/v1/users.2fa.enableEmail', { auth: { userId: u.id, authToken: pat } })).status, 200);
      assert.equal(await alive(u.id, pat), false);
      assert.equal(await alive(u.id, auth.authToken), false, 'the login was not the credential used');
    });

    it('over DDP: enabling email codes revokes the bypass token', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const pat = await bypassToken(u, auth);
      const ddp = await DdpTestClient.open(w.t.wsUrl);
      await ddp.loginWithPassword(u.username, u.password);
      assert.equal(await ddp.call('2fa:enable-email'), true);
      assert.equal(await alive(u.id, pat), false);
      assert.equal((await ddp.call('twofold:me')).username, u.username, 'the DDP login stays');
      ddp.close();
    });
  });

  describe(`a bypass token does not skip what always asks (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    it('always-ask operations ask a bypass token for a code (REST)', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'bot', bypassTwoFactor: true } }));
      const made = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'bot', bypassTwoFactor: true }, headers: emailHeaders(code) });
      const robot = { userId: u.id, authToken: made.body.token as string };
      // An ordinary protected call passes without a code, as in Rocket.Chat…
      assert.equal((await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth: robot, body: { data: { name: 'Robot' } } })).status, 200);
      // …but those that always ask do not.
      for (const [path, body] of [
        ['/api/v1/users.2fa.disableEmail', undefined],
        ['/api/v1/users.updateOwnBasicInfo', { data: { newPassword: 'stolen' } }],
        ['/api/v1/users.generatePersonalAccessToken', { tokenName: 'more', bypassTwoFactor: true }],
      ] as const) {
        const res = await w.call('POST', path, { auth: robot, body });
        assert.equal(res.status, 400, path);
        assert.equal(res.body.errorType, 'totp-required', path);
      }
      assert.equal((await w.call('GET', '/api/v1/me', { auth })).body.services.email2fa.enabled, true);
    });

    it('callWithTwoFactorRequired checks the code of a DDP session resumed with a bypass token', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const made = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'bot', bypassTwoFactor: true }, headers: passwordHeaders(u) });
      const ddp = await DdpTestClient.open(w.t.wsUrl);
      await ddp.call('login', { resume: made.body.token });
      const refused = await ddpError(ddp.call('callWithTwoFactorRequired', { code: sha256('wrong'), ddpMethod: 'twofold:me', method: 'password', params: [] }));
      assert.equal(refused.error, 'totp-invalid');
      const me = await ddp.call('callWithTwoFactorRequired', { code: sha256(u.password), ddpMethod: 'twofold:me', method: 'password', params: [] });
      assert.equal(me.username, u.username);
      ddp.close();
    });
  });

  describe(`creating or renewing a personal access token always asks (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    it('even right after a remembered success on the same login', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const first = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'one' }, headers: passwordHeaders(u) });
      assert.equal(first.status, 200);
      assert.equal((await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: 'Remembered' } }, headers: passwordHeaders(u) })).status, 200);
      // Remembered now: an ordinary protected call passes without a code…
      assert.equal((await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: 'Again' } } })).status, 200);
      // …token calls do not.
      for (const [path, tokenName] of [['/api/v1/users.generatePersonalAccessToken', 'two'], ['/api/v1/users.regeneratePersonalAccessToken', 'one']]) {
        const res = await w.call('POST', path!, { auth, body: { tokenName } });
        assert.equal(res.body.errorType, 'totp-required', path);
        assert.equal(res.body.details.method, 'password');
      }
    });

    it('even for a brand-new account in its grace period', async () => {
      await w.t.addUser({ username: 'newcomer', password: 'new pw' });
      const auth = await restLogin(w.t.url, 'newcomer', 'new pw');
      // The grace lets an ordinary protected call through…
      assert.equal((await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: 'New' } } })).status, 200);
      // …not a token.
      const res = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'early', bypassTwoFactor: true } });
      assert.equal(res.status, 400);
      assert.equal(res.body.errorType, 'totp-required');
      const ok = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'early', bypassTwoFactor: true }, headers: { 'x-2fa-code': sha256('new pw'), 'x-2fa-method': 'password' } });
      assert.equal(ok.status, 200);
    });
  });
}

for (const store of storesUnderTest) {
  describe(`token calls ask for the password even with the fallback off (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store, { settings: { passwordFallback: false } }); });
    after(() => w.t.close());

    it('a user with no method confirms a new token with their password', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      // An ordinary protected call has nothing to ask with the fallback off…
      assert.equal((await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: 'Free' } } })).status, 200);
      // …a token does.
      const asked = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'bot' } });
      assert.equal(asked.body.errorType, 'totp-required');
      assert.equal(asked.body.details.method, 'password');
      assert.equal((await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'bot' }, headers: passwordHeaders(u) })).status, 200);
    });
  });
}
