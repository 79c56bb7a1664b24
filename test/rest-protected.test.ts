// The other protected REST calls (spec §5) and the REST login with a second factor (spec §1).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { maskEmail } from '../src/core/accounts.ts';
import { passwordCode, twoFactorWorld, type Auth, type TwoFactorWorld } from './helpers/rest-2fa.ts';
import { storesUnderTest } from './helpers/stores.ts';

const emailHeaders = (code: string) => ({ 'x-2fa-code': code, 'x-2fa-method': 'email' });

for (const store of storesUnderTest) {
  describe(`REST: personal access tokens (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    /** Creates a token through the email challenge; the login token is then remembered. */
    async function generate(auth: Auth, a: Parameters<TwoFactorWorld['codeFrom']>[0], body: Record<string, unknown>) {
      const code = await w.codeFrom(a, () => w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body }));
      return w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body, headers: emailHeaders(code) });
    }

    it('a generated token authenticates like a login, is listed by name and last characters, and is stored hashed', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const res = await generate(auth, u, { tokenName: 'deploy' });
      assert.equal(res.status, 200);
      const token: string = res.body.token;
      assert.deepEqual(Object.keys(res.body).sort(), ['success', 'token']);
      const pat = { userId: u.id, authToken: token };
      const me = await w.call('GET', '/api/v1/me', { auth: pat });
      assert.equal(me.status, 200);
      assert.equal(me.body.username, u.username);
      const list = await w.call('GET', '/api/v1/users.getPersonalAccessTokens', { auth });
      assert.deepEqual(list.body, {
        tokens: [{ name: 'deploy', createdAt: new Date(w.clock.now()).toISOString(), lastTokenPart: token.slice(-6), bypassTwoFactor: false }],
        success: true,
      });
      const rows = await w.t.server.app.store.db.selectFrom('login_tokens').selectAll().where('kind', '=', 'pat').execute();
      assert.ok(rows.length > 0 && rows.every((r) => r.token_hash !== token && r.expires_at === null));
    });

    it('a token without bypassTwoFactor is asked for a second factor; one with it is not, except where a call always asks', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const plain = (await generate(auth, u, { tokenName: 'plain' })).body.token as string;
      const bypassing = await generate(auth, u, { tokenName: 'robot', bypassTwoFactor: true });
      assert.equal(bypassing.status, 200);

      let asked: any;
      await w.codeFrom(u, async () => {
        asked = await w.call('POST', '/api/v1/users.removePersonalAccessToken', { auth: { userId: u.id, authToken: plain }, body: { tokenName: 'robot' } });
      });
      assert.equal(asked.status, 400);
      assert.equal(asked.body.errorType, 'totp-required');

      const robot = { userId: u.id, authToken: bypassing.body.token as string };
      const free = await w.call('POST', '/api/v1/users.removePersonalAccessToken', { auth: robot, body: { tokenName: 'plain' } });
      assert.deepEqual(free.body, { success: true });
      const always = await w.call('POST', '/api/v1/users.2fa.disableEmail', { auth: robot });
      assert.equal(always.status, 400, 'an always-ask call asks a bypass token too');
      assert.equal(always.body.errorType, 'totp-required');
      assert.equal((await w.call('GET', '/api/v1/me', { auth: { userId: u.id, authToken: plain } })).status, 401, 'the removed token is dead');
    });

    it('regenerating gives a new token with the same name and bypass flag; the old one stops working', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const old = (await generate(auth, u, { tokenName: 'ci', bypassTwoFactor: true })).body.token as string;
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.regeneratePersonalAccessToken', { auth, body: { tokenName: 'ci' } }));
      const res = await w.call('POST', '/api/v1/users.regeneratePersonalAccessToken', { auth, body: { tokenName: 'ci' }, headers: emailHeaders(code) });
      assert.equal(res.status, 200);
      assert.notEqual(res.body.token, old);
      assert.equal((await w.call('GET', '/api/v1/me', { auth: { userId: u.id, authToken: old } })).status, 401);
      assert.equal((await w.call('GET', '/api/v1/me', { auth: { userId: u.id, authToken: res.body.token } })).status, 200);
      const list = await w.call('GET', '/api/v1/users.getPersonalAccessTokens', { auth });
      assert.deepEqual(list.body.tokens.map((t: any) => [t.name, t.bypassTwoFactor, t.lastTokenPart]), [['ci', true, res.body.token.slice(-6)]]);
    });

    it('regenerate and remove ask for a second factor on a token that is not remembered', async () => {
      const u = await w.emailUser();
      const first = await w.loginEmailUser(u);
      await generate(first, u, { tokenName: 'ci' });
      const second = await w.loginEmailUser(u);
      for (const path of ['/api/v1/users.regeneratePersonalAccessToken', '/api/v1/users.removePersonalAccessToken']) {
        // Let the previous success be forgotten.
        w.clock.advance(w.t.server.app.settings.rememberFor + 1);
        let res: any;
        const code = await w.codeFrom(u, async () => { res = await w.call('POST', path, { auth: second, body: { tokenName: 'ci' } }); });
        assert.equal(res.body.errorType, 'totp-required', path);
        assert.equal((await w.call('POST', path, { auth: second, body: { tokenName: 'ci' }, headers: emailHeaders(code) })).status, 200, path);
      }
    });

    it('a taken name is error-token-already-exists; an unknown one error-token-not-found; an empty one error-parameter-required', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      await generate(auth, u, { tokenName: 'dup' });
      const dup = await generate(auth, u, { tokenName: 'dup' });
      assert.equal(dup.status, 400);
      assert.equal(dup.body.errorType, 'error-token-already-exists');
      for (const path of ['/api/v1/users.regeneratePersonalAccessToken', '/api/v1/users.removePersonalAccessToken']) {
        const code = await w.codeFrom(u, () => w.call('POST', path, { auth, body: { tokenName: 'nope' } }));
        const missing = await w.call('POST', path, { auth, body: { tokenName: 'nope' }, headers: emailHeaders(code) });
        assert.equal(missing.status, 400);
        assert.equal(missing.body.errorType, 'error-token-not-found');
      }
      for (const body of [{}, { tokenName: '' }, { tokenName: '  ' }]) {
        const res = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body });
        assert.equal(res.status, 400);
        assert.equal(res.body.errorType, 'error-parameter-required');
      }
      const long = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'x'.repeat(1000) } });
      assert.equal(long.body.errorType, 'error-invalid-params');
    });

    it('without a login the token calls are 401', async () => {
      for (const [method, path] of [['POST', '/api/v1/users.generatePersonalAccessToken'], ['POST', '/api/v1/users.regeneratePersonalAccessToken'],
        ['POST', '/api/v1/users.removePersonalAccessToken'], ['GET', '/api/v1/users.getPersonalAccessTokens']] as const) {
        const res = await w.call(method, path, method === 'POST' ? { body: { tokenName: 'x' } } : {});
        assert.equal(res.status, 401, path);
      }
    });

    it('a password change logs out other sessions and revokes personal access tokens, keeping this login', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const made = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', {
        auth, body: { tokenName: 'keep' }, headers: { 'x-2fa-code': passwordCode(u), 'x-2fa-method': 'password' },
      });
      assert.equal(made.status, 200);
      const other = await w.login(u);
      const changed = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', {
        auth, body: { data: { newPassword: 'brand new' } }, headers: { 'x-2fa-code': passwordCode(u), 'x-2fa-method': 'password' },
      });
      assert.equal(changed.status, 200);
      assert.equal((await w.call('GET', '/api/v1/me', { auth: other })).status, 401);
      assert.equal((await w.call('GET', '/api/v1/me', { auth: { userId: u.id, authToken: made.body.token } })).status, 401);
      assert.equal((await w.call('GET', '/api/v1/me', { auth })).status, 200);
    });
  });

  describe(`REST: users.updateOwnBasicInfo and users.delete (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    it('a name change is rememberable; an email or password change always asks', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: 'First' } } }));
      const named = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: 'First' } }, headers: emailHeaders(code) });
      assert.equal(named.status, 200);
      assert.equal(named.body.user.name, 'First');
      assert.equal((await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: 'Second' } } })).status, 200, 'remembered');

      // The password first: the new address is unverified, so after it email codes stop.
      for (const data of [{ newPassword: 'another one' }, { email: `new-${u.address}` }]) {
        let asked: any;
        const c = await w.codeFrom(u, async () => { asked = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data } }); });
        assert.equal(asked.status, 400, JSON.stringify(data));
        assert.equal(asked.body.errorType, 'totp-required');
        const done = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data }, headers: emailHeaders(c) });
        assert.equal(done.status, 200, JSON.stringify(done.body));
      }
      const me = await w.call('GET', '/api/v1/me', { auth });
      assert.equal(me.body.emails[0].address, `new-${u.address}`);
      assert.equal(me.body.emails[0].verified, false);
      assert.equal((await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password } })).status, 401, 'the old password is gone');
      // No verified address is left, so no second factor either.
      assert.equal((await w.call('POST', '/api/v1/login', { body: { user: u.username, password: 'another one' } })).status, 200);
      assert.ok(w.t.mail.messages.some((m) => m.to.includes(`new-${u.address}`) && m.subject !== 'Authentication code'), 'a verification mail went to the new address');
    });

    it('a user with no method confirms a password change with the old password\'s hash', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const asked = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { newPassword: 'next pw' } } });
      assert.equal(asked.body.details.method, 'password');
      const done = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', {
        auth, body: { data: { newPassword: 'next pw' } }, headers: { 'x-2fa-code': passwordCode(u), 'x-2fa-method': 'password' },
      });
      assert.equal(done.status, 200);
      assert.equal((await w.call('POST', '/api/v1/login', { body: { user: u.username, password: 'next pw' } })).status, 200);
    });

    it('users.delete asks the admin for a second factor, then deletes', async () => {
      const admin = await w.plainUser({ roles: ['user', 'admin'] });
      const victim = await w.plainUser();
      const auth = await w.login(admin);
      const asked = await w.call('POST', '/api/v1/users.delete', { auth, body: { userId: victim.id } });
      assert.equal(asked.status, 400);
      assert.equal(asked.body.errorType, 'totp-required');
      assert.equal(asked.body.details.method, 'password');
      const done = await w.call('POST', '/api/v1/users.delete', {
        auth, body: { userId: victim.id }, headers: { 'x-2fa-code': passwordCode(admin), 'x-2fa-method': 'password' },
      });
      assert.deepEqual(done.body, { success: true });
      assert.equal((await w.call('POST', '/api/v1/login', { body: { user: victim.username, password: victim.password } })).status, 401);
      assert.equal(await w.t.server.app.store.users.byId(victim.id), null);
    });

    it('users.delete and users.update are refused to a non-admin before any second factor', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const before = w.t.mail.messages.length;
      // Rocket.Chat's answers: the route permission of users.delete, saveUser's refusal for users.update.
      for (const [path, body, code, error] of [
        ['/api/v1/users.delete', { userId: u.id }, 'error-unauthorized', 'User does not have the permissions required for this action [error-unauthorized]'],
        ['/api/v1/users.update', { userId: u.id, data: { name: 'x' } }, 'error-action-not-allowed', 'Editing user is not allowed [error-action-not-allowed]'],
        ['/api/v1/users.create', { username: 'x1', email: 'x1@example.com', password: 'p', name: 'X' }, 'error-action-not-allowed', 'Adding user is not allowed [error-action-not-allowed]'],
        ['/api/v1/users.list', undefined, 'error-unauthorized', 'User does not have the permissions required for this action [error-unauthorized]'],
      ] as const) {
        const res = await w.call(path === '/api/v1/users.list' ? 'GET' : 'POST', path, { auth, body });
        assert.equal(res.status, 403, path);
        assert.equal(res.body.errorType, code, path);
        assert.equal(res.body.error, error, path);
      }
      assert.equal(w.t.mail.messages.length, before, 'no code was mailed');
    });
  });

  describe(`REST: login with a second factor (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    it('the first attempt is 401 totp-required and mails the code; the code in the body logs in', async () => {
      const u = await w.emailUser();
      let first: any;
      const code = await w.codeFrom(u, async () => {
        first = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password } });
      });
      assert.equal(first.status, 401);
      assert.deepEqual(first.body, {
        success: false, status: 'error', error: 'totp-required', message: 'TOTP Required',
        details: {
          method: 'email', codeGenerated: true, codeCount: 1,
          codeExpires: [new Date(w.clock.now() + w.t.server.app.settings.emailCodeTtl * 1000).toISOString()],
          availableMethods: ['email'], emailOrUsername: u.username, destinations: [maskEmail(u.address)],
        },
      });
      const ok = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password, code } });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.status, 'success');
      assert.equal(ok.body.data.userId, u.id);
      assert.equal(ok.body.data.me.services.email2fa.enabled, true);
    });

    it('the code may come in the x-2fa-code header instead', async () => {
      const u = await w.emailUser();
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/login', { body: { user: u.address, password: u.password } }));
      const ok = await w.call('POST', '/api/v1/login', { body: { user: u.address, password: u.password }, headers: { 'x-2fa-code': code } });
      assert.equal(ok.status, 200);
      assert.equal(typeof ok.body.data.authToken, 'string');
    });

    it('a wrong code is 401 totp-invalid; a wrong password never reaches the second factor', async () => {
      const u = await w.emailUser();
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password } }));
      const wrong = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password, code: code === '000000' ? '000001' : '000000' } });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error, 'totp-invalid');
      assert.equal(wrong.body.message, 'TOTP Invalid');
      assert.equal(wrong.body.details.method, 'email');
      const before = w.t.mail.messages.length;
      w.tick();
      const badPassword = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: 'wrong' } });
      assert.equal(badPassword.status, 401);
      assert.equal(badPassword.body.error, 'Unauthorized');
      assert.equal(w.t.mail.messages.length, before, 'no code for a wrong password');
    });

    it('a user without a method logs in without a second factor, and is never asked for the password again', async () => {
      const u = await w.plainUser();
      const res = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password }, headers: { 'x-2fa-method': 'password' } });
      assert.equal(res.status, 200);
    });

    it('a resume login is never challenged', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const res = await w.call('POST', '/api/v1/login', { body: { resume: auth.authToken } });
      assert.equal(res.status, 200);
    });
  });
}
