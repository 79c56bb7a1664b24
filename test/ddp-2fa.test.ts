// The second factor over DDP: login challenge, the trailing {twoFactorCode, twoFactorMethod},
// callWithTwoFactorRequired, and the account operations REST protects, on the same policies.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import { issueLoginToken } from '../src/operations/shared/accounts.ts';
import { ddpError, DdpTestClient, passwordLoginRequest, sha256 } from './helpers/ddp.ts';
import { emailUserSession, mailedCode, resumeSession, wrongCode } from './helpers/realtime.ts';
import { rest } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

for (const store of storesUnderTest) {
  describe(`second factor over DDP (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    before(async () => {
      t = await startTestServer({ store, clock });
    });
    after(() => t.close());

    const codeFor = (username: string, run: () => Promise<unknown>) => mailedCode(t, clock, `${username}@example.com`, run);

    it('login with email 2FA on fails with totp-required, then login {totp: {login, code}} succeeds', async () => {
      const { ddp: first } = await emailUserSession(t, 'lena');
      first.close();
      const ddp = await DdpTestClient.open(t.wsUrl);
      const request = passwordLoginRequest('lena', 'lena pw');
      let challenge: any;
      const code = await codeFor('lena', async () => { challenge = await ddpError(ddp.call('login', request)); });
      assert.equal(challenge.error, 'totp-required');
      assert.equal(challenge.errorType, 'Meteor.Error');
      assert.equal(challenge.details.method, 'email');
      assert.equal(challenge.details.codeGenerated, true);
      assert.deepEqual(challenge.details.availableMethods, ['email']);
      // Still not logged in.
      assert.equal((await ddpError(ddp.call('twofold:me'))).error, 'unauthorized');

      const wrong = await ddpError(ddp.call('login', { totp: { login: request, code: wrongCode(code) } }));
      assert.equal(wrong.error, 'totp-invalid');
      const result = await ddp.call('login', { totp: { login: request, code } });
      assert.deepEqual(Object.keys(result).sort(), ['id', 'token', 'tokenExpires', 'type']);
      assert.equal(result.type, 'password');
      assert.equal(typeof result.tokenExpires.$date, 'number');
      assert.equal((await ddp.call('twofold:me')).username, 'lena');
      ddp.close();

      // A resume login is never challenged.
      const again = await resumeSession(t, result.token);
      assert.equal((await again.call('twofold:me')).username, 'lena');
      again.close();
    });

    it('a protected method takes the trailing {twoFactorCode, twoFactorMethod} that Rocket.Chat clients append', async () => {
      const { ddp } = await emailUserSession(t, 'milo');
      let challenge: any;
      const code = await codeFor('milo', async () => { challenge = await ddpError(ddp.call('saveUserProfile', { realname: 'Milo M' })); });
      assert.equal(challenge.error, 'totp-required');
      const wrong = await ddpError(ddp.call('saveUserProfile', { realname: 'Milo M' }, { twoFactorCode: wrongCode(code), twoFactorMethod: 'email' }));
      assert.equal(wrong.error, 'totp-invalid');
      assert.equal((await ddp.call('twofold:me')).name, 'milo');
      assert.equal(await ddp.call('saveUserProfile', { realname: 'Milo M' }, { twoFactorCode: code, twoFactorMethod: 'email' }), true);
      assert.equal((await ddp.call('twofold:me')).name, 'Milo M');
      // A method that asks for nothing ignores it.
      assert.equal((await ddp.call('twofold:me', { twoFactorCode: '123456', twoFactorMethod: 'email' })).username, 'milo');
      ddp.close();
    });

    it('saveUserProfile: a name change is remembered after a success, an email or password change always asks', async () => {
      const { ddp, user } = await emailUserSession(t, 'mia');
      // A second device of the same user.
      const other = await resumeSession(t, (await issueLoginToken(t.server.app, user)).token);
      const code = await codeFor('mia', () => ddpError(ddp.call('saveUserProfile', { realname: 'Mia' })));
      assert.equal(await ddp.call('saveUserProfile', { realname: 'Mia' }, { twoFactorCode: code, twoFactorMethod: 'email' }), true);
      // Remembered for this token and client: no code needed for another name change.
      assert.equal(await ddp.call('saveUserProfile', { realname: 'Mia B' }), true);

      let challenge: any;
      const pwCode = await codeFor('mia', async () => { challenge = await ddpError(ddp.call('saveUserProfile', { newPassword: 'mia new pw' })); });
      assert.equal(challenge.error, 'totp-required');
      assert.equal(await ddp.call('saveUserProfile', { newPassword: 'mia new pw' }, { twoFactorCode: pwCode, twoFactorMethod: 'email' }), true);
      // A new password ends the user's other sessions, not this one.
      assert.equal((await ddpError(other.call('twofold:me'))).error, 'unauthorized');
      assert.equal((await ddp.call('twofold:me')).username, 'mia');

      const mailCode = await codeFor('mia', async () => { challenge = await ddpError(ddp.call('saveUserProfile', { email: 'mia.new@example.com' })); });
      assert.equal(challenge.error, 'totp-required');
      assert.equal(await ddp.call('saveUserProfile', { email: 'mia.new@example.com' }, { twoFactorCode: mailCode, twoFactorMethod: 'email' }), true);
      assert.deepEqual((await ddp.call('twofold:me')).emails, [{ address: 'mia.new@example.com', verified: false }]);
      ddp.close();
      other.close();

      const login = await DdpTestClient.open(t.wsUrl);
      // The new password works; with no verified email left there is no second factor to ask.
      assert.equal((await login.loginWithPassword('mia', 'mia new pw')).type, 'password');
      login.close();
    });

    it('personal access tokens over DDP ask for a second factor; creating and renewing always ask', async () => {
      const { ddp, user } = await emailUserSession(t, 'pia');
      let challenge: any;
      const code = await codeFor('pia', async () => { challenge = await ddpError(ddp.call('personalAccessTokens:generateToken', { tokenName: 'ci' })); });
      assert.equal(challenge.error, 'totp-required');
      const pat = await ddp.call('personalAccessTokens:generateToken', { tokenName: 'ci' }, { twoFactorCode: code, twoFactorMethod: 'email' });
      assert.equal(typeof pat, 'string');
      const me = await rest(t.url, 'GET', '/api/v1/me', { auth: { userId: user.id, authToken: pat } });
      assert.equal(me.status, 200);
      assert.equal(me.body.username, 'pia');

      // Renewing a token always asks, even right after a success on this login.
      let renewChallenge: any;
      const renewCode = await codeFor('pia', async () => { renewChallenge = await ddpError(ddp.call('personalAccessTokens:regenerateToken', { tokenName: 'ci' })); });
      assert.equal(renewChallenge.error, 'totp-required');
      const renewed = await ddp.call('personalAccessTokens:regenerateToken', { tokenName: 'ci' }, { twoFactorCode: renewCode, twoFactorMethod: 'email' });
      assert.notEqual(renewed, pat);
      // Another login of the same user is asked again.
      const second = await DdpTestClient.open(t.wsUrl);
      await second.loginWithPassword('pia', 'pia pw', await codeFor('pia', () => ddpError(second.loginWithPassword('pia', 'pia pw'))));
      assert.equal((await ddpError(second.call('personalAccessTokens:removeToken', { tokenName: 'ci' }))).error, 'totp-required');
      const removeCode = await codeFor('pia', () => second.call('sendEmailCode', 'pia'));
      assert.equal(await second.call('personalAccessTokens:removeToken', { tokenName: 'ci' }, { twoFactorCode: removeCode, twoFactorMethod: 'email' }), true);
      assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth: { userId: user.id, authToken: renewed } })).status, 401);
      ddp.close();
      second.close();
    });

    it('admin operations over DDP ask the admin for a second factor; a user is not allowed', async () => {
      const { ddp: admin } = await emailUserSession(t, 'ada', { admin: true });
      const { ddp: plain, user: victim } = await emailUserSession(t, 'vic');
      assert.equal((await ddpError(plain.call('deleteUser', victim.id))).error, 'error-not-allowed');

      let challenge: any;
      const code = await codeFor('ada', async () => { challenge = await ddpError(admin.call('twofold:updateUser', { userId: victim.id, data: { name: 'Victor' } })); });
      assert.equal(challenge.error, 'totp-required');
      const updated = await admin.call('twofold:updateUser', { userId: victim.id, data: { name: 'Victor' } }, { twoFactorCode: code, twoFactorMethod: 'email' });
      assert.equal(updated.name, 'Victor');

      // A different operation through the wrapper: its code is always checked.
      const deleteCode = await codeFor('ada', () => admin.call('sendEmailCode', 'ada'));
      const refused = await ddpError(admin.call('callWithTwoFactorRequired', { code: wrongCode(deleteCode), ddpMethod: 'deleteUser', method: 'email', params: [victim.id] }));
      assert.equal(refused.error, 'totp-invalid');
      assert.equal(await admin.call('callWithTwoFactorRequired', { code: deleteCode, ddpMethod: 'deleteUser', method: 'email', params: [victim.id] }), true);
      assert.equal((await ddpError(plain.call('twofold:me'))).error, 'unauthorized');
      admin.close();
      plain.close();
    });

    it('callWithTwoFactorRequired checks its code even for methods that ask for nothing, and even after a remembered success', async () => {
      const { ddp } = await emailUserSession(t, 'cal');
      const code = await codeFor('cal', () => ddp.call('sendEmailCode', 'cal'));
      const rid = (await ddp.call('createChannel', 'cal-room', [])).rid;
      const payload = (c: string, msg: string) => ({ code: c, ddpMethod: 'sendMessage', method: 'email', params: [{ rid, msg }] });

      const wrong = await ddpError(ddp.call('callWithTwoFactorRequired', payload(wrongCode(code), 'no')));
      assert.equal(wrong.error, 'totp-invalid');
      assert.equal(wrong.reason, 'TOTP Invalid');
      const sent = await ddp.call('callWithTwoFactorRequired', payload(code, 'yes'));
      assert.equal(sent.msg, 'yes');
      // A remembered success (from the call above or any other) never lets a wrong code through here.
      const profileCode = await codeFor('cal', () => ddpError(ddp.call('saveUserProfile', { realname: 'Cal' })));
      assert.equal(await ddp.call('saveUserProfile', { realname: 'Cal' }, { twoFactorCode: profileCode, twoFactorMethod: 'email' }), true);
      assert.equal((await ddpError(ddp.call('callWithTwoFactorRequired', payload('000000', 'again')))).error, 'totp-invalid');
      // Naming a method the user does not have fails as a wrong code.
      assert.equal((await ddpError(ddp.call('callWithTwoFactorRequired', { ...payload('123456', 'totp'), method: 'totp' }))).error, 'totp-invalid');
      const { messages } = await ddp.call('loadHistory', rid);
      assert.deepEqual(messages.map((m: any) => m.msg), ['yes']);
      ddp.close();
    });

    it('callWithTwoFactorRequired takes the password (SHA-256 hex) from a user with no other method', async () => {
      const { ddp } = await emailUserSession(t, 'pablo', { email2fa: false });
      const { rid } = await ddp.call('createChannel', 'pablo-room', []);
      const call = (code: string) => ddp.call('callWithTwoFactorRequired', { code, ddpMethod: 'sendMessage', method: 'password', params: [{ rid, msg: 'hi' }] });
      assert.equal((await ddpError(call(sha256('not it')))).error, 'totp-invalid');
      assert.equal((await call(sha256('pablo pw').toUpperCase())).msg, 'hi');
      ddp.close();
    });

    it('callWithTwoFactorRequired dispatches only registry methods, never login or itself, and needs a login', async () => {
      const { ddp } = await emailUserSession(t, 'rex');
      const code = await codeFor('rex', () => ddp.call('sendEmailCode', 'rex'));
      for (const ddpMethod of ['login', 'callWithTwoFactorRequired', 'noSuchMethod', '__proto__', 'constructor']) {
        const e = await ddpError(ddp.call('callWithTwoFactorRequired', { code, ddpMethod, method: 'email', params: [] }));
        assert.equal(e.error, 'error-method-not-found', ddpMethod);
      }
      const anonymous = await DdpTestClient.open(t.wsUrl);
      const e = await ddpError(anonymous.call('callWithTwoFactorRequired', { code, ddpMethod: 'twofold:me', method: 'email', params: [] }));
      assert.equal(e.error, 'error-invalid-user');
      anonymous.close();
      // The code was not spent by any of those.
      assert.equal((await ddp.call('callWithTwoFactorRequired', { code, ddpMethod: 'twofold:me', method: 'email', params: [] })).username, 'rex');
      ddp.close();
    });

    it('bad input to callWithTwoFactorRequired and to the trailing parameter is a Meteor error with a stable code; the connection stays', async () => {
      const { ddp } = await emailUserSession(t, 'bea');
      const good = { code: '123456', ddpMethod: 'twofold:me', method: 'email', params: [] };
      const cases: [unknown[], string][] = [
        [[{ ...good, code: undefined }], 'error-parameter-required'],
        [[{ ...good, ddpMethod: undefined }], 'error-parameter-required'],
        [[{ ...good, method: undefined }], 'error-parameter-required'],
        [[{ ...good, params: undefined }], 'error-parameter-required'],
        [[{ ...good, method: 'sms' }], 'error-invalid-params'],
        [[{ ...good, method: 'PASSWORD' }], 'error-invalid-params'],
        [[{ ...good, params: { 0: 'x' } }], 'error-invalid-params'],
        [[{ ...good, params: 'x' }], 'error-invalid-params'],
        [[{ ...good, params: Array(33).fill(1) }], 'error-invalid-params'],
        [[{ ...good, code: { $ne: '' } }], 'error-invalid-params'],
        [[{ ...good, code: 'x'.repeat(300) }], 'error-invalid-params'],
        [[{ ...good, ddpMethod: 42 }], 'error-invalid-params'],
        [[{ ...good, extra: true }], 'error-invalid-params'],
        [[good, good], 'error-invalid-params'],
        [['callWithTwoFactorRequired'], 'error-invalid-params'],
        [[], 'error-parameter-required'],
        [[{ ...good, ddpMethod: 'sendMessage', params: [{ rid: 'nope', msg: 'x' }, 'extra', 'more'] }], 'error-invalid-params'],
      ];
      for (const [params, code] of cases) {
        const frame = await ddp.callRaw('callWithTwoFactorRequired', ...params);
        assert.equal(frame.error?.error, code, JSON.stringify(params));
        assert.equal(frame.error.errorType, 'Meteor.Error');
      }
      const trailing: [unknown, string][] = [
        [{ twoFactorCode: '123456', twoFactorMethod: 'sms' }, 'error-invalid-params'],
        [{ twoFactorCode: { $gt: '' }, twoFactorMethod: 'email' }, 'error-invalid-params'],
        [{ twoFactorCode: '1'.repeat(300), twoFactorMethod: 'email' }, 'error-invalid-params'],
      ];
      for (const [param, code] of trailing) {
        assert.equal((await ddpError(ddp.call('2fa:disable-email', param))).error, code, JSON.stringify(param));
      }
      // Too many parameters for a method.
      assert.equal((await ddpError(ddp.call('2fa:enable-email', 1, 2))).error, 'error-invalid-params');
      assert.equal((await ddpError(ddp.call('createChannel', 'a', [], false, {}, {}, 'sixth'))).error, 'error-invalid-params');
      assert.equal((await ddp.call('twofold:me')).username, 'bea');
      ddp.close();
    });
  });
}
