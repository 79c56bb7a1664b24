import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import { ddpError, DdpTestClient, sha256 } from './helpers/ddp.ts';
import { loginAttempt, rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { BACKUP_CODE, enrolOverRest, nextTotp, totpAt, wrongTotp } from './helpers/totp.ts';

const login = loginAttempt;

for (const store of storesUnderTest) {
  describe(`authenticator app in use (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    before(async () => {
      t = await startTestServer({ store, clock });
    });
    after(() => t.close());

    /** A user with TOTP on (and email codes too when asked), enrolled over REST. */
    async function enrolled(username: string, opts: { email2fa?: boolean } = {}) {
      const user = await t.addUser({ username, password: `${username} pw` });
      const auth = await restLogin(t.url, username, `${username} pw`);
      const enrolment = await enrolOverRest(t.url, auth, clock);
      if (opts.email2fa) assert.equal((await rest(t.url, 'POST', '/api/v1/users.2fa.enableEmail', { auth })).status, 200);
      return { user, auth, password: `${username} pw`, ...enrolment };
    }

    it('REST login asks for TOTP first (availableMethods ["totp","email"]) and accepts the app\'s code', async () => {
      const { secret } = await enrolled('kim', { email2fa: true });
      const mailsBefore = t.mail.messages.length;
      const asked = await login(t.url, 'kim', 'kim pw');
      assert.equal(asked.status, 401);
      assert.equal(asked.body.error, 'totp-required');
      assert.equal(asked.body.details.method, 'totp');
      assert.deepEqual(asked.body.details.availableMethods, ['totp', 'email']);
      assert.equal(asked.body.details.codeGenerated, false);
      assert.equal(t.mail.messages.length, mailsBefore, 'no email code is sent when TOTP is the method');
      const ok = await login(t.url, 'kim', 'kim pw', nextTotp(clock, secret));
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body.data.me.services, { totp: { enabled: true }, email2fa: { enabled: true } });
      const viaHeader = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'kim', password: 'kim pw' }, headers: { 'x-2fa-code': nextTotp(clock, secret) } });
      assert.equal(viaHeader.status, 200);
    });

    it('DDP login fails with totp-required, then {totp:{login, code}} logs in', async () => {
      const { secret } = await enrolled('lou');
      const ddp = await DdpTestClient.open(t.wsUrl);
      const asked = await ddpError(ddp.loginWithPassword('lou', 'lou pw'));
      assert.equal(asked.error, 'totp-required');
      assert.equal(asked.reason, 'TOTP Required');
      assert.deepEqual(asked.details?.availableMethods, ['totp']);
      const wrong = await ddpError(ddp.loginWithPassword('lou', 'lou pw', wrongTotp(secret, clock.now())));
      assert.equal(wrong.error, 'totp-invalid');
      const result = await ddp.loginWithPassword('lou', 'lou pw', nextTotp(clock, secret));
      assert.equal(result.type, 'password');
      assert.equal((await ddp.call('twofold:me')).username, 'lou');
      ddp.close();
    });

    it('protected calls ask for TOTP on REST and DDP, and take the app\'s code', async () => {
      const { secret, auth } = await enrolled('max', { email2fa: true });
      const asked = await rest(t.url, 'POST', '/api/v1/users.2fa.disableEmail', { auth });
      assert.equal(asked.status, 400);
      assert.equal(asked.body.errorType, 'totp-required');
      assert.equal(asked.body.details.method, 'totp');
      assert.deepEqual(asked.body.details.availableMethods, ['totp', 'email']);
      const done = await rest(t.url, 'POST', '/api/v1/users.2fa.disableEmail', { auth, headers: { 'x-2fa-code': nextTotp(clock, secret) } });
      assert.equal(done.status, 200);

      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.loginWithPassword('max', 'max pw', nextTotp(clock, secret));
      assert.equal(await ddp.call('2fa:enable-email'), true);
      const ddpAsked = await ddpError(ddp.call('2fa:disable-email'));
      assert.equal(ddpAsked.error, 'totp-required');
      assert.equal(ddpAsked.details?.method, 'totp');
      assert.equal(await ddp.call('2fa:disable-email', { twoFactorCode: nextTotp(clock, secret), twoFactorMethod: 'totp' }), true);
      ddp.close();
    });

    it('a replayed TOTP code is refused with totp-invalid, at login and on a protected call', async () => {
      const { secret, auth } = await enrolled('ned');
      const code = nextTotp(clock, secret);
      assert.equal((await login(t.url, 'ned', 'ned pw', code)).status, 200);
      const replay = await login(t.url, 'ned', 'ned pw', code);
      assert.equal(replay.status, 401);
      assert.equal(replay.body.error, 'totp-invalid');
      clock.advance(20); // still inside the ±1 step window
      assert.equal((await login(t.url, 'ned', 'ned pw', code)).body.error, 'totp-invalid');
      const onCall = await rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { newPassword: 'ned pw' } }, headers: { 'x-2fa-code': code } });
      assert.equal(onCall.status, 400);
      assert.equal(onCall.body.errorType, 'totp-invalid');
      const ddp = await DdpTestClient.open(t.wsUrl);
      assert.equal((await ddpError(ddp.loginWithPassword('ned', 'ned pw', code))).error, 'totp-invalid');
      ddp.close();
    });

    it('of 20 concurrent logins with one code exactly one succeeds', async () => {
      const { secret } = await enrolled('oli');
      const code = nextTotp(clock, secret);
      const results = await Promise.all(Array.from({ length: 20 }, () => login(t.url, 'oli', 'oli pw', code)));
      assert.equal(results.filter((r) => r.status === 200).length, 1);
      // The losers are refused as a replay, or by a failure limit that their failures filled.
      for (const r of results.filter((x) => x.status !== 200)) {
        assert.equal(r.status, 401);
        assert.ok(['totp-invalid', 'totp-max-attempts', 'error-login-blocked-for-user'].includes(r.body.error), r.body.error);
      }
      assert.ok(results.some((r) => r.body.error === 'totp-invalid'));
    });

    it('of 20 concurrent protected calls with one code exactly one succeeds', async () => {
      const { secret, auth } = await enrolled('pam', { email2fa: true });
      const code = nextTotp(clock, secret);
      const results = await Promise.all(Array.from({ length: 20 }, () =>
        rest(t.url, 'POST', '/api/v1/users.2fa.disableEmail', { auth, headers: { 'x-2fa-code': code } })));
      assert.equal(results.filter((r) => r.status === 200).length, 1);
      assert.ok(results.filter((r) => r.status !== 200).every((r) => r.status === 400 && r.body.errorType.startsWith('totp-')));
    });

    it('a backup code works once, on REST and on DDP, and counts down', async () => {
      const { codes, auth } = await enrolled('quin');
      assert.equal((await login(t.url, 'quin', 'quin pw', codes[0])).status, 200);
      const again = await login(t.url, 'quin', 'quin pw', codes[0]);
      assert.equal(again.status, 401);
      assert.equal(again.body.error, 'totp-invalid');
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.loginWithPassword('quin', 'quin pw', codes[1]);
      assert.deepEqual(await ddp.call('2fa:checkCodesRemaining'), { remaining: 10 });
      assert.equal((await ddpError(ddp.loginWithPassword('quin', 'quin pw', codes[1]))).error, 'totp-invalid');
      ddp.close();
      const onCall = await rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { newPassword: 'quin pw' } }, headers: { 'x-2fa-code': codes[2]! } });
      assert.equal(onCall.status, 200);
      assert.deepEqual((await rest(t.url, 'GET', '/api/v1/users.totp.codesRemaining', { auth })).body, { remaining: 9, success: true });
    });

    it('all 12 backup codes can be used up; then none works and regenerateCodes gives 12 new ones', async () => {
      const { secret, codes, auth } = await enrolled('rae');
      for (const [i, code] of codes.entries()) {
        assert.equal((await login(t.url, 'rae', 'rae pw', code)).status, 200, `backup code ${i}`);
      }
      assert.deepEqual((await rest(t.url, 'GET', '/api/v1/users.totp.codesRemaining', { auth })).body, { remaining: 0, success: true });
      assert.equal((await login(t.url, 'rae', 'rae pw', codes[11])).body.error, 'totp-invalid');
      const fresh = await rest(t.url, 'POST', '/api/v1/users.totp.regenerateCodes', { auth, body: { code: nextTotp(clock, secret) } });
      assert.equal(fresh.status, 200);
      assert.equal(fresh.body.codes.length, 12);
      for (const c of fresh.body.codes) assert.match(c, BACKUP_CODE);
      assert.ok(fresh.body.codes.every((c: string) => !codes.includes(c)));
      assert.equal((await login(t.url, 'rae', 'rae pw', fresh.body.codes[0])).status, 200);
      assert.deepEqual((await rest(t.url, 'GET', '/api/v1/users.totp.codesRemaining', { auth })).body.remaining, 11);
    });

    it('an 8-character input is only ever checked as a backup code', async () => {
      const { secret } = await enrolled('sam');
      clock.advance(30);
      const eight = totpAt(secret, clock.now(), 8);
      const six = totpAt(secret, clock.now());
      assert.equal(eight.slice(-6), six, 'the 8-digit value ends with the current code');
      for (const code of [eight, `00${six}`, `${six}00`, '12345678']) {
        assert.equal((await login(t.url, 'sam', 'sam pw', code)).body.error, 'totp-invalid', code);
      }
      assert.equal((await login(t.url, 'sam', 'sam pw', six)).status, 200, 'the 6-digit code was not used up by those tries');
    });

    it('regenerateCodes takes the app\'s code or a backup code; old codes stop working; a wrong code changes nothing', async () => {
      const { secret, codes, auth } = await enrolled('tia');
      const wrong = await rest(t.url, 'POST', '/api/v1/users.totp.regenerateCodes', { auth, body: { code: wrongTotp(secret, clock.now()) } });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.errorType, 'totp-invalid');
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.call('login', { resume: auth.authToken });
      const ddpWrong = await ddp.callRaw('2fa:regenerateCodes', wrongTotp(secret, clock.now()));
      assert.ok(!('error' in ddpWrong) && !('result' in ddpWrong), 'a wrong code gives an empty result, as Rocket.Chat does');
      assert.deepEqual(await ddp.call('2fa:checkCodesRemaining'), { remaining: 12 });
      const viaBackup = await ddp.call('2fa:regenerateCodes', codes[0]);
      assert.equal(viaBackup.codes.length, 12);
      ddp.close();
      assert.equal((await login(t.url, 'tia', 'tia pw', codes[1])).body.error, 'totp-invalid', 'an old code no longer works');
      assert.equal((await login(t.url, 'tia', 'tia pw', viaBackup.codes[0])).status, 200);
    });

    it('2fa:disable answers false to a wrong code and true to a right one; then login needs no code', async () => {
      const { secret } = await enrolled('uma');
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.loginWithPassword('uma', 'uma pw', nextTotp(clock, secret));
      for (const bad of [wrongTotp(secret, clock.now()), 'abcdef', ` ${totpAt(secret, clock.now())}`, '1234567', 'ZZZZZZZZ']) {
        assert.equal(await ddp.call('2fa:disable', bad), false, JSON.stringify(bad));
      }
      assert.equal((await ddp.call('twofold:me')).services.totp.enabled, true, 'still on after wrong codes');
      assert.equal(await ddp.call('2fa:disable', nextTotp(clock, secret)), true);
      assert.equal((await ddp.call('twofold:me')).services.totp.enabled, false);
      assert.equal((await ddpError(ddp.call('2fa:disable', nextTotp(clock, secret)))).error, 'invalid-totp', 'already off');
      ddp.close();
      assert.equal((await login(t.url, 'uma', 'uma pw')).status, 200);
      const rows = await t.server.app.store.db.selectFrom('backup_codes').select('code_hash')
        .where('user_id', '=', (await t.server.app.store.users.byUsername('uma'))!.id).execute();
      assert.equal(rows.length, 0, 'the backup codes are gone');
    });

    it('users.totp.disable over REST: a wrong code is totp-invalid and changes nothing; a backup code turns it off', async () => {
      const { secret, codes, auth } = await enrolled('val');
      const wrong = await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, body: { code: wrongTotp(secret, clock.now()) } });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.errorType, 'totp-invalid');
      assert.deepEqual((await rest(t.url, 'GET', '/api/v1/me', { auth })).body.services.totp, { enabled: true });
      const ok = await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, body: { code: codes[5] } });
      assert.deepEqual(ok.body, { success: true });
      assert.deepEqual((await rest(t.url, 'GET', '/api/v1/me', { auth })).body.services.totp, { enabled: false });
      const off = await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, body: { code: codes[6] } });
      assert.equal(off.body.errorType, 'invalid-totp');
    });

    it('wrong codes to disable count toward the failure limit, which then answers totp-max-attempts', async () => {
      const { secret, auth } = await enrolled('wes');
      const limit = t.server.app.settings.failureLimit;
      for (let i = 0; i < limit; i++) {
        const r = await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, body: { code: wrongTotp(secret, clock.now()) } });
        assert.equal(r.body.errorType, 'totp-invalid');
      }
      const locked = await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, body: { code: nextTotp(clock, secret) } });
      assert.equal(locked.body.errorType, 'totp-max-attempts', 'even the right code waits for the window');
      assert.equal((await login(t.url, 'wes', 'wes pw', nextTotp(clock, secret))).body.error, 'totp-max-attempts');
      clock.advance(t.server.app.settings.failureWindow);
      assert.deepEqual((await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, body: { code: nextTotp(clock, secret) } })).body, { success: true });
    });

    it('admin users.resetTOTP always asks, turns TOTP off and logs the target out everywhere', async () => {
      const { user, secret, auth: targetAuth } = await enrolled('xia');
      const second = await restLogin(t.url, 'xia', 'xia pw', nextTotp(clock, secret));
      const targetDdp = await DdpTestClient.open(t.wsUrl);
      await targetDdp.loginWithPassword('xia', 'xia pw', nextTotp(clock, secret));
      await t.addUser({ username: 'root', password: 'root pw', roles: ['user', 'admin'] });
      clock.advance(t.server.app.settings.rememberFor + 1); // past the new-user grace
      const admin = await restLogin(t.url, 'root', 'root pw');
      const password = { 'x-2fa-method': 'password', 'x-2fa-code': sha256('root pw') };

      // A remembered success does not cover it.
      const remembered = await rest(t.url, 'POST', '/api/v1/users.update', { auth: admin, headers: password, body: { userId: user.id, data: { name: 'Xia' } } });
      assert.equal(remembered.status, 200);
      const asked = await rest(t.url, 'POST', '/api/v1/users.resetTOTP', { auth: admin, body: { userId: user.id } });
      assert.equal(asked.status, 400);
      assert.equal(asked.body.errorType, 'totp-required');
      assert.equal(asked.body.details.method, 'password');

      const done = await rest(t.url, 'POST', '/api/v1/users.resetTOTP', { auth: admin, headers: password, body: { userId: user.id } });
      assert.deepEqual(done.body, { success: true });
      for (const a of [targetAuth, second]) assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth: a })).status, 401);
      assert.equal((await ddpError(targetDdp.call('twofold:me'))).error, 'unauthorized');
      targetDdp.close();
      const back = await login(t.url, 'xia', 'xia pw');
      assert.equal(back.status, 200, 'logs in without a code');
      assert.deepEqual(back.body.data.me.services.totp, { enabled: false });
      assert.equal((await rest(t.url, 'GET', '/api/v1/users.totp.codesRemaining', { auth: back.body.data })).body.errorType, 'invalid-totp');
      assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth: admin })).status, 200, 'the admin stays logged in');
    });

    it('users.resetTOTP: DDP binding, non-admins refused, unknown or missing user reported', async () => {
      const { user, secret } = await enrolled('yan');
      await t.addUser({ username: 'boss', password: 'boss pw', roles: ['user', 'admin'] });
      const bossAuth = await restLogin(t.url, 'boss', 'boss pw');
      const { secret: bossSecret } = await enrolOverRest(t.url, bossAuth, clock);
      const password = { 'x-2fa-method': 'password', 'x-2fa-code': sha256('boss pw') };

      const plain = await restLogin(t.url, 'yan', 'yan pw', nextTotp(clock, secret));
      const refused = await rest(t.url, 'POST', '/api/v1/users.resetTOTP', { auth: plain, body: { userId: user.id } });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.errorType, 'error-not-allowed');

      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.loginWithPassword('boss', 'boss pw', nextTotp(clock, bossSecret));
      const asked = await ddpError(ddp.call('2fa:resetTOTP', user.id));
      assert.equal(asked.error, 'totp-required');
      assert.equal(asked.details?.method, 'totp', 'an admin with an app is asked for it, not the password');
      assert.equal((await ddpError(ddp.call('2fa:resetTOTP', 'nobody-has-this-id', { twoFactorCode: nextTotp(clock, bossSecret) }))).error, 'error-invalid-user-id');
      assert.equal((await ddpError(ddp.call('2fa:resetTOTP', { twoFactorCode: nextTotp(clock, bossSecret) }))).error, 'error-parameter-required');
      assert.equal(await ddp.call('2fa:resetTOTP', user.id, { twoFactorCode: nextTotp(clock, bossSecret) }), true);
      ddp.close();
      assert.equal((await login(t.url, 'yan', 'yan pw')).status, 200);
      const byPassword = await rest(t.url, 'POST', '/api/v1/users.resetTOTP', { auth: bossAuth, headers: password, body: { username: 'yan' } });
      assert.equal(byPassword.body.errorType, 'totp-invalid', 'the password is no second factor for a user with an app');
      const byName = await rest(t.url, 'POST', '/api/v1/users.resetTOTP', { auth: bossAuth, headers: { 'x-2fa-code': nextTotp(clock, bossSecret) }, body: { username: 'yan' } });
      assert.deepEqual(byName.body, { success: true });
    });
  });
}
