// Issue 11 point 4: besides the sliding window, wrong codes in a row are counted (only a
// success resets the count); at TWOFOLD_2FA_MAX_CONSECUTIVE_FAILURES (default 50) the second
// factor is suspended — no code is checked at all — until the user recovers with a code
// mailed to a verified address, or an admin resets it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadSettings, SettingError } from '../src/config/settings.ts';
import { auditCount } from './helpers/audit.ts';
import { ddpError, DdpTestClient } from './helpers/ddp.ts';
import { passwordCode, twoFactorWorld, type Account, type Auth, type TwoFactorWorld } from './helpers/rest-2fa.ts';
import { rest } from './helpers/rest.ts';
import { codeOf } from './helpers/smtp.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { nextTotp, wrongTotp } from './helpers/totp.ts';

describe('the consecutive failure limit', () => {
  it('defaults to 50 and is never above 100 (NIST SP 800-63B §3.2.2)', () => {
    assert.equal(loadSettings({}).maxConsecutiveFailures, 50);
    assert.equal(loadSettings({ TWOFOLD_2FA_MAX_CONSECUTIVE_FAILURES: '100' }).maxConsecutiveFailures, 100);
    assert.throws(() => loadSettings({ TWOFOLD_2FA_MAX_CONSECUTIVE_FAILURES: '101' }), SettingError);
    assert.throws(() => loadSettings({ TWOFOLD_2FA_MAX_CONSECUTIVE_FAILURES: '0' }), SettingError);
  });
});

for (const store of storesUnderTest) {
  describe(`a second factor suspended after consecutive failures (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    const pw = (a: Account) => ({ 'x-2fa-code': passwordCode(a), 'x-2fa-method': 'password' });
    const loginWith = (a: Account, code?: string) =>
      rest(w.t.url, 'POST', '/api/v1/login', { body: code === undefined ? { user: a.username, password: a.password } : { user: a.username, password: a.password, code } });

    /** A user with an authenticator app, and a session of theirs. */
    async function totpUser(): Promise<{ u: Account; auth: Auth; secret: string }> {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const secret = (await w.call('POST', '/api/v1/users.totp.enable', { auth, headers: pw(u) })).body.secret as string;
      assert.equal((await w.call('POST', '/api/v1/users.totp.validate', { auth, body: { code: nextTotp(w.clock, secret) } })).status, 200);
      return { u, auth, secret };
    }

    /** Wrong codes at login, waiting out the window (10 per 15 minutes) as a patient attacker would. */
    async function guess(u: Account, secret: string, n: number): Promise<string[]> {
      const errors: string[] = [];
      for (let i = 0; i < n; i++) {
        if (i > 0 && i % w.t.server.app.settings.failureLimit === 0) w.clock.advance(w.t.server.app.settings.failureWindow + 1);
        errors.push((await loginWith(u, wrongTotp(secret, w.clock.now()))).body.error);
      }
      return errors;
    }

    it('the 50th wrong code in a row suspends: no code is checked, the user is told by mail and the audit trail says so', async () => {
      const app = w.t.server.app;
      const { u, auth, secret } = await totpUser();
      const suspendedMail = w.t.mail.waitFor((m) => m.to.includes(u.address) && m.subject === 'Two-factor authentication suspended', 10_000, w.t.mail.messages.length);
      const successes = await auditCount(app, u.id, '2fa-success');
      const errors = await guess(u, secret, 49);
      assert.deepEqual([...new Set(errors)], ['totp-invalid']);
      const fiftieth = await loginWith(u, wrongTotp(secret, w.clock.now()));
      assert.equal(fiftieth.status, 403);
      assert.equal(fiftieth.body.errorType, 'error-2fa-suspended');

      // Right codes are not even looked at now: at login, on a protected call, and a challenge mails nothing.
      w.clock.advance(app.settings.failureWindow + 1);
      const right = await loginWith(u, nextTotp(w.clock, secret));
      assert.equal(right.status, 403);
      assert.equal(right.body.errorType, 'error-2fa-suspended');
      const call = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { newPassword: 'x' } }, headers: { 'x-2fa-code': nextTotp(w.clock, secret), 'x-2fa-method': 'totp' } });
      assert.equal(call.body.errorType, 'error-2fa-suspended');
      assert.equal((await loginWith(u)).body.errorType, 'error-2fa-suspended');
      const ddp = await DdpTestClient.open(w.t.wsUrl);
      const overDdp = await ddpError(ddp.loginWithPassword(u.username, u.password, nextTotp(w.clock, secret)));
      assert.equal(overDdp.error, 'error-2fa-suspended');
      assert.equal(overDdp.details?.recover, '/api/v1/users.2fa.recover');
      ddp.close();
      assert.equal(await auditCount(app, u.id, '2fa-failure'), 50);
      assert.equal(await auditCount(app, u.id, '2fa-success'), successes, 'no code passed');
      assert.equal(await auditCount(app, u.id, '2fa-suspended'), 1);

      const mail = await suspendedMail;
      assert.match(mail.text, /50 wrong codes in a row/);
      assert.match(mail.text, /users\.2fa\.recover/);
    });

    it('only a success resets the count; the sliding window alone does not', async () => {
      const { u, secret } = await totpUser();
      await guess(u, secret, 49);
      w.clock.advance(w.t.server.app.settings.failureWindow + 1);
      assert.equal((await loginWith(u, nextTotp(w.clock, secret))).status, 200);
      assert.deepEqual([...new Set(await guess(u, secret, 49))], ['totp-invalid'], 'a fresh run of 49 after the success');
      w.clock.advance(w.t.server.app.settings.failureWindow + 1);
      assert.equal((await loginWith(u, wrongTotp(secret, w.clock.now()))).body.errorType, 'error-2fa-suspended', 'the 50th of the run');
    });

    it('a recovery code mailed to a verified address lifts the suspension (and only that)', async () => {
      const app = w.t.server.app;
      const { u, auth, secret } = await totpUser();
      await guess(u, secret, 50);
      const recover = (body: Record<string, unknown>) => w.call('POST', '/api/v1/users.2fa.recover', { body });
      // Unknown users and users who are not suspended get the same answer, and no mail.
      const before = w.t.mail.messages.length;
      assert.deepEqual((await recover({ emailOrUsername: 'nobody-here' })).body, { success: true });
      w.tick();
      const recoveryMail = w.t.mail.waitFor((m) => m.to.includes(u.address) && m.subject === 'Recovery code', 10_000, w.t.mail.messages.length);
      assert.deepEqual((await recover({ emailOrUsername: u.username })).body, { success: true });
      const code = codeOf(await recoveryMail);
      assert.equal(w.t.mail.messages.slice(before).filter((m) => m.subject === 'Recovery code').length, 1);

      const wrong = await recover({ emailOrUsername: u.username, code: code === '000000' ? '111111' : '000000' });
      assert.equal(wrong.body.errorType, 'error-invalid-recovery-code');
      assert.equal((await loginWith(u, nextTotp(w.clock, secret))).body.errorType, 'error-2fa-suspended', 'still suspended');
      assert.deepEqual((await recover({ emailOrUsername: u.address, code })).body, { success: true });
      assert.equal((await recover({ emailOrUsername: u.username, code })).body.errorType, 'error-invalid-recovery-code', 'used once');
      assert.equal(await auditCount(app, u.id, '2fa-recovered'), 1);

      // The authenticator app is still on and still asked for; the sliding window still holds.
      assert.equal((await loginWith(u)).body.error, 'totp-required');
      assert.equal((await loginWith(u, nextTotp(w.clock, secret))).body.error, 'totp-max-attempts');
      w.clock.advance(app.settings.failureWindow + 1);
      assert.equal((await loginWith(u, nextTotp(w.clock, secret))).status, 200);
      assert.equal((await w.call('GET', '/api/v1/me', { auth })).body.services.totp.enabled, true);
    });

    it('a recovery code is burnt after too many wrong tries', async () => {
      const { u, secret } = await totpUser();
      await guess(u, secret, 50);
      w.tick();
      const code = codeOf(await new Promise((resolve, reject) => {
        w.t.mail.waitFor((m) => m.to.includes(u.address) && m.subject === 'Recovery code', 10_000, w.t.mail.messages.length).then(resolve, reject);
        void w.call('POST', '/api/v1/users.2fa.recover', { body: { emailOrUsername: u.username } });
      }));
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < w.t.server.app.settings.emailCodeMaxAttempts; i++) {
        await w.call('POST', '/api/v1/users.2fa.recover', { body: { emailOrUsername: u.username, code: wrong } });
      }
      const late = await w.call('POST', '/api/v1/users.2fa.recover', { body: { emailOrUsername: u.username, code } });
      assert.equal(late.body.errorType, 'error-invalid-recovery-code');
    });

    it('an admin lifts a suspension with users.resetTOTP', async () => {
      const app = w.t.server.app;
      const admin = await w.plainUser({ roles: ['user', 'admin'] });
      const adminAuth = await w.login(admin);
      const { u, secret } = await totpUser();
      await guess(u, secret, 50);
      assert.equal((await loginWith(u)).body.errorType, 'error-2fa-suspended');
      const reset = await w.call('POST', '/api/v1/users.resetTOTP', { auth: adminAuth, body: { userId: u.id }, headers: pw(admin) });
      assert.equal(reset.status, 200);
      assert.equal((await loginWith(u)).status, 200, 'no method left, not suspended');
      const { events } = await app.store.audit.list({ userId: u.id, offset: 0, count: 10 });
      assert.ok(events.some((e) => e.event === '2fa-recovered' && e.details.by === 'admin'));
    });
  });
}
