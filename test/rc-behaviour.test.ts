// Where Rocket.Chat's own clients and tests expect its behaviour (issue 12 points 2–5):
// currentPassword as the password second factor, state errors before the step-up, a verified
// email before enrolling an app, and its leniency and wording for input and permissions.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ddpError, DdpTestClient, sha256 } from './helpers/ddp.ts';
import { passwordCode, twoFactorWorld, type TwoFactorWorld } from './helpers/rest-2fa.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { nextTotp } from './helpers/totp.ts';

const NOT_PERMITTED = 'User does not have the permissions required for this action [error-unauthorized]';

for (const store of storesUnderTest) {
  describe(`Rocket.Chat's behaviour where its clients expect it (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    describe('currentPassword is the password second factor of users.updateOwnBasicInfo', () => {
      it('a user with no method changes email and password with data.currentPassword alone', async () => {
        const u = await w.plainUser();
        const auth = await w.login(u);
        const email = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', {
          auth, body: { data: { email: `new.${u.address}`, currentPassword: passwordCode(u) } },
        });
        assert.equal(email.status, 200, JSON.stringify(email.body));
        assert.equal(email.body.user.emails[0].address, `new.${u.address}`);
        const password = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', {
          auth, body: { data: { newPassword: 'a new one', currentPassword: passwordCode(u).toUpperCase() } },
        });
        assert.equal(password.status, 200, JSON.stringify(password.body));
        assert.equal((await w.call('POST', '/api/v1/login', { body: { user: u.username, password: 'a new one' } })).status, 200);
      });

      it('a wrong currentPassword is totp-invalid for method password, as Rocket.Chat answers it, and changes nothing', async () => {
        const u = await w.plainUser();
        const auth = await w.login(u);
        const res = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', {
          auth, body: { data: { newPassword: 'other', currentPassword: sha256('not the password') } },
        });
        assert.equal(res.status, 400);
        assert.equal(res.body.errorType, 'totp-invalid');
        assert.equal(res.body.details.method, 'password');
        assert.equal((await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password } })).status, 200);
      });

      it('for a user with email codes it does not stand in for the code: the call asks for the email code', async () => {
        const u = await w.emailUser();
        const auth = await w.loginEmailUser(u);
        w.tick();
        const res = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', {
          auth, body: { data: { newPassword: 'other', currentPassword: passwordCode(u) } },
        });
        assert.equal(res.status, 400);
        assert.equal(res.body.errorType, 'totp-required');
        assert.equal(res.body.details.method, 'email');
      });

      it('over DDP saveUserProfile takes typedPassword the same way', async () => {
        const u = await w.plainUser();
        const ddp = await DdpTestClient.open(w.t.wsUrl);
        await ddp.loginWithPassword(u.username, u.password);
        assert.equal((await ddpError(ddp.call('saveUserProfile', { email: `ddp.${u.address}` }, {}))).error, 'totp-required');
        assert.equal(await ddp.call('saveUserProfile', { email: `ddp.${u.address}`, typedPassword: passwordCode(u) }, {}), true);
        assert.equal((await ddp.call('twofold:me')).emails[0].address, `ddp.${u.address}`);
        ddp.close();
      });
    });

    describe('state errors come before the step-up', () => {
      it('enabling email codes twice is error-2fa-already-enabled on both transports, and no code is mailed', async () => {
        const u = await w.emailUser();
        const auth = await w.loginEmailUser(u);
        w.tick();
        const mails = w.t.mail.messages.length;
        const rest = await w.call('POST', '/api/v1/users.2fa.enableEmail', { auth });
        assert.equal(rest.status, 400);
        assert.equal(rest.body.errorType, 'error-2fa-already-enabled');
        const ddp = await DdpTestClient.open(w.t.wsUrl);
        await ddp.call('login', { resume: auth.authToken });
        assert.equal((await ddpError(ddp.call('2fa:enable-email'))).error, 'error-2fa-already-enabled');
        ddp.close();
        assert.equal(w.t.mail.messages.length, mails);
      });

      it('disabling email codes that are off is error-2fa-not-enabled without asking for the password', async () => {
        const u = await w.plainUser();
        const auth = await w.login(u);
        const res = await w.call('POST', '/api/v1/users.2fa.disableEmail', { auth });
        assert.equal(res.status, 400);
        assert.equal(res.body.errorType, 'error-2fa-not-enabled');
        const ddp = await DdpTestClient.open(w.t.wsUrl);
        await ddp.call('login', { resume: auth.authToken });
        assert.equal((await ddpError(ddp.call('2fa:disable-email'))).error, 'error-2fa-not-enabled');
        ddp.close();
      });

      it('enrolling an app while one is on is error-2fa-already-enabled before any code, for an email user too', async () => {
        const u = await w.emailUser();
        const auth = await w.loginEmailUser(u);
        let asked: any;
        const code = await w.codeFrom(u, async () => { asked = await w.call('POST', '/api/v1/users.totp.enable', { auth }); });
        assert.equal(asked.body.errorType, 'totp-required', 'enrolling asks for the email code first');
        const started = await w.call('POST', '/api/v1/users.totp.enable', { auth, headers: { 'x-2fa-method': 'email', 'x-2fa-code': code } });
        assert.equal(started.status, 200, JSON.stringify(started.body));
        const done = await w.call('POST', '/api/v1/users.totp.validate', { auth, body: { code: nextTotp(w.clock, started.body.secret) } });
        assert.equal(done.status, 200, JSON.stringify(done.body));
        // A new session: nothing remembered, so the old order would have asked for the app's code.
        const login = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password, code: nextTotp(w.clock, started.body.secret) } });
        assert.equal(login.status, 200);
        const fresh = { userId: login.body.data.userId, authToken: login.body.data.authToken };
        w.tick();
        const mails = w.t.mail.messages.length;
        const again = await w.call('POST', '/api/v1/users.totp.enable', { auth: fresh });
        assert.equal(again.body.errorType, 'error-2fa-already-enabled');
        const ddp = await DdpTestClient.open(w.t.wsUrl);
        await ddp.call('login', { resume: fresh.authToken });
        assert.equal((await ddpError(ddp.call('2fa:enable'))).error, 'error-2fa-already-enabled');
        ddp.close();
        assert.equal(w.t.mail.messages.length, mails, 'no code was mailed for a call that cannot succeed');
      });
    });

    describe('enrolling an app needs verified emails', () => {
      it('users.totp.enable and 2fa:enable answer error-invalid-user with Rocket.Chat\'s text, before any code', async () => {
        const username = `unverified${Date.now() % 100000}`;
        await w.t.addUser({ username, password: 'pw', email: `${username}@example.com`, verified: false });
        w.clock.advance(w.t.server.app.settings.rememberFor + 1);
        const auth = await w.login({ username, password: 'pw', address: '', id: '' });
        const res = await w.call('POST', '/api/v1/users.totp.enable', { auth });
        assert.equal(res.status, 400);
        assert.equal(res.body.errorType, 'error-invalid-user');
        assert.equal(res.body.error, 'You need to verify your emails before setting up 2FA [error-invalid-user]');
        const ddp = await DdpTestClient.open(w.t.wsUrl);
        await ddp.call('login', { resume: auth.authToken });
        const viaDdp = await ddpError(ddp.call('2fa:enable'));
        assert.equal(viaDdp.error, 'error-invalid-user');
        assert.equal(viaDdp.reason, 'You need to verify your emails before setting up 2FA');
        ddp.close();
      });
    });

    describe('input: lenient where Rocket.Chat is, its wording where it refuses', () => {
      it('fields Rocket.Chat\'s clients send are accepted and ignored', async () => {
        const admin = await w.plainUser({ roles: ['user', 'admin'] });
        const adminAuth = await w.login(admin);
        const password = { 'x-2fa-method': 'password', 'x-2fa-code': passwordCode(admin) };
        const pat = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', {
          auth: adminAuth, headers: password, body: { tokenName: 'script', bypassTwoFactor: false, loginToken: 'whatever the client had' },
        });
        assert.equal(pat.status, 200, JSON.stringify(pat.body));
        const created = await w.call('POST', '/api/v1/users.create', {
          auth: adminAuth, headers: password,
          body: { username: `made${Date.now() % 100000}`, email: `made${Date.now() % 100000}@example.com`, password: 'pw', name: 'Made', joinDefaultChannels: true, sendWelcomeEmail: false, verified: true, customFields: {} },
        });
        assert.equal(created.status, 200, JSON.stringify(created.body));
        const updated = await w.call('POST', '/api/v1/users.update', {
          auth: adminAuth, headers: password, body: { userId: created.body.user._id, data: { joinDefaultChannels: false, nickname: 'm', name: 'Made Again' }, confirmRelinquish: false },
        });
        assert.equal(updated.status, 200, JSON.stringify(updated.body));
        assert.equal(updated.body.user.name, 'Made Again');
        const own = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', {
          auth: adminAuth, headers: password, body: { data: { name: 'Admin', nickname: null, bio: '', statusText: 'here', email: null }, customFields: null },
        });
        assert.equal(own.status, 200, JSON.stringify(own.body));
        const registered = await w.call('POST', '/api/v1/users.register', {
          body: { username: `reg${Date.now() % 100000}`, email: `reg${Date.now() % 100000}@example.com`, pass: 'pw', name: null, secret: '', reason: 'joining', customFields: {} },
        });
        assert.equal(registered.status, 200, JSON.stringify(registered.body));
        const sent = await w.call('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: admin.username, extra: 1 } });
        assert.equal(sent.status, 200);
        const u = await w.plainUser();
        assert.equal((await w.call('POST', '/api/v1/users.2fa.enableEmail', { auth: await w.login(u), body: { anything: true } })).status, 200);
      });

      it('fields Rocket.Chat\'s schemas refuse are refused with its invalid-params wording', async () => {
        const u = await w.plainUser();
        const auth = await w.login(u);
        for (const [path, body] of [
          ['/api/v1/users.register', { username: 'x2', email: 'x2@example.com', pass: 'pw', loginToken: 'x' }],
          ['/api/v1/users.updateOwnBasicInfo', { data: { name: 'N', realname: 'N' } }],
          ['/api/v1/users.updateOwnBasicInfo', { data: { name: 'N' }, extra: 1 }],
        ] as const) {
          const res = await w.call('POST', path, { auth: path === '/api/v1/users.register' ? undefined : auth, body });
          assert.equal(res.status, 400, path);
          assert.equal(res.body.errorType, 'invalid-params', path);
          assert.equal(res.body.error, 'must NOT have additional properties [invalid-params]', path);
        }
      });

      it('names of spaces only are refused: register name, own name, username, token name', async () => {
        const u = await w.plainUser();
        const auth = await w.login(u);
        const reg = await w.call('POST', '/api/v1/users.register', { body: { username: 'blank1', email: 'blank1@example.com', pass: 'pw', name: '   ' } });
        assert.equal(reg.status, 400);
        assert.equal(reg.body.errorType, 'error-invalid-params');
        const regUser = await w.call('POST', '/api/v1/users.register', { body: { username: '   ', email: 'blank2@example.com', pass: 'pw' } });
        assert.equal(regUser.body.errorType, 'error-invalid-params');
        const own = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: ' \t ' } } });
        assert.equal(own.status, 400);
        assert.equal(own.body.errorType, 'error-invalid-params');
        const token = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: '   ' } });
        assert.equal(token.status, 400);
        assert.equal(token.body.errorType, 'error-parameter-required');
      });

      it('permission refusals: error-unauthorized (403) where Rocket.Chat checks a route permission, its own codes elsewhere', async () => {
        const u = await w.plainUser();
        const auth = await w.login(u);
        for (const [method, path] of [['GET', '/api/v1/users.list'], ['GET', '/api/v1/audit.2fa'], ['POST', '/api/v1/users.delete']] as const) {
          const res = await w.call(method, path, { auth, body: method === 'POST' ? { userId: u.id } : undefined });
          assert.equal(res.status, 403, path);
          assert.equal(res.body.errorType, 'error-unauthorized', path);
          assert.equal(res.body.error, NOT_PERMITTED, path);
        }
        const reset = await w.call('POST', '/api/v1/users.resetTOTP', { auth, body: { userId: u.id } });
        assert.equal(reset.status, 403);
        assert.equal(reset.body.errorType, 'error-not-allowed', 'Rocket.Chat\'s users.resetTOTP says error-not-allowed');
        const ddp = await DdpTestClient.open(w.t.wsUrl);
        await ddp.call('login', { resume: auth.authToken });
        assert.equal((await ddpError(ddp.call('deleteUser', u.id))).error, 'error-not-allowed', 'the DDP method keeps its own code');
        ddp.close();
      });
    });
  });
}
