// Spec §3.6 with the production defaults: send limits, the email attempt limit, the 2FA
// failure window and the login blocks, on REST and DDP, timed with a fake clock.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import { settingsTable } from '../src/config/settings.ts';
import { FakeClock } from '../src/core/clock.ts';
import { ddpError, DdpTestClient, sha256 } from './helpers/ddp.ts';
import { defaultSettings, productionLimits } from './helpers/limits.ts';
import { loginAttempt, rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { enrolOverRest, nextTotp, totpAt, wrongTotp } from './helpers/totp.ts';

const defaults = defaultSettings;

describe('limit defaults', () => {
  it('are the documented ones: codes 1 per 60 s and 10 per hour per user, 30 per hour per address; 5 wrong email codes; 10 failures per 15 min; logins 10 per name, 50 per address, 300 s', () => {
    assert.equal(defaults.sendCodeUserInterval, 60);
    assert.equal(defaults.sendCodeUserPerHour, 10);
    assert.equal(defaults.sendCodeAddressPerHour, 30);
    assert.equal(defaults.emailCodeMaxAttempts, 5);
    assert.equal(defaults.failureLimit, 10);
    assert.equal(defaults.failureWindow, 900);
    assert.equal(defaults.loginFailuresPerUser, 10);
    assert.equal(defaults.loginFailuresPerAddress, 50);
    assert.equal(defaults.loginBlockSeconds, 300);
  });

  it('SECURITY.md states each limit with its current default', () => {
    const text = readFileSync(new URL('../SECURITY.md', import.meta.url), 'utf8');
    const limits = ['emailCodeMaxAttempts', 'failureLimit', 'failureWindow', 'sendCodeUserInterval', 'sendCodeUserPerHour', 'sendCodeAddressPerHour',
      'loginFailuresPerUser', 'loginFailuresPerAddress', 'loginBlockSeconds', 'emailCodeMaxLive', 'emailCodeTtl', 'rememberFor', 'totpMaxDelta',
      'registerAddressPerHour', 'verifyMailAddressPerHour', 'verifyMailTargetInterval', 'verifyMailTargetPerHour'] as const;
    for (const key of limits) {
      const { env } = settingsTable[key];
      const row = text.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${env}\``));
      assert.ok(row, `${env} is in the limits table`);
      assert.match(row, new RegExp(`(^|\\D)${defaults[key]}(\\D|$)`), `${env}: default ${defaults[key]} is stated`);
    }
  });
});

const login = loginAttempt;

for (const store of storesUnderTest) {
  describe(`abuse limits with the production defaults (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    let n = 0;
    before(async () => {
      t = await startTestServer({ store, clock, settings: productionLimits });
    });
    after(() => t.close());
    // Every window is an hour or less: a test starting an hour later starts from nothing.
    beforeEach(() => clock.advance(3601));

    async function emailUser(prefix = 'e') {
      const username = `${prefix}${++n}`;
      const user = await t.addUser({ username, password: `${username} pw`, email2fa: true });
      return { ...user, password: `${username} pw`, address: `${username}@example.com` };
    }
    const sendCode = (emailOrUsername: string) => rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername } });
    const liveCodes = async (userId: string) => (await t.server.app.store.twoFactor.liveEmailCodes(userId, clock.now())).length;

    it('a second code within 60 s is refused with 429, timeToReset and the rate-limit headers, and nothing is mailed', async () => {
      const u = await emailUser();
      assert.equal((await sendCode(u.username)).status, 200);
      assert.equal(await liveCodes(u.id), 1);
      clock.advance(20);
      const refused = await sendCode(u.username);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.success, false);
      assert.equal(refused.body.errorType, 'error-too-many-requests');
      assert.equal(refused.body.details.timeToReset, 40);
      assert.match(refused.body.error, /You must wait 40 seconds/);
      assert.equal(refused.headers.get('x-ratelimit-limit'), '1');
      assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
      assert.equal(refused.headers.get('x-ratelimit-reset'), String(clock.now() + 40_000));
      assert.equal(refused.headers.get('retry-after'), '40');
      assert.equal(await liveCodes(u.id), 1, 'no code was made');
      clock.advance(40);
      const code = await t.mail.nextCode(u.address, async () => assert.equal((await sendCode(u.username)).status, 200));
      assert.equal((await login(t.url, u.username, u.password, code)).status, 200);
    });

    it('DDP sendEmailCode over the limit fails with error-too-many-requests and details.timeToReset', async () => {
      const u = await emailUser();
      const ddp = await DdpTestClient.open(t.wsUrl);
      assert.equal((await ddp.call('sendEmailCode', u.username)).length, 1);
      clock.advance(15);
      const err = await ddpError(ddp.call('sendEmailCode', u.username));
      assert.equal(err.error, 'error-too-many-requests');
      assert.equal(err.errorType, 'Meteor.Error');
      assert.equal(err.details?.timeToReset, 45);
      assert.equal(await liveCodes(u.id), 1);
      ddp.close();
    });

    it('a user gets at most 10 codes in any hour, even spaced 60 s apart', async () => {
      const u = await emailUser();
      for (let i = 0; i < 10; i++) {
        assert.equal((await sendCode(u.username)).status, 200, `code ${i + 1}`);
        clock.advance(60);
      }
      const refused = await sendCode(u.username);
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('x-ratelimit-limit'), '10');
      // The first of the ten was sent 600 s ago: it leaves the hour in 3000 s.
      assert.equal(refused.body.details.timeToReset, 3000);
      clock.advance(3000);
      assert.equal((await sendCode(u.username)).status, 200);
    });

    it('one client address gets at most 30 codes in any hour, whatever the users', async () => {
      const users = [];
      for (let i = 0; i < 31; i++) users.push(await emailUser('a'));
      for (const u of users.slice(0, 30)) assert.equal((await sendCode(u.username)).status, 200);
      const refused = await sendCode(users[30]!.username);
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('x-ratelimit-limit'), '30');
      assert.equal(refused.body.details.timeToReset, 3600);
      assert.equal(await liveCodes(users[30]!.id), 0);
    });

    it('a "send again" right after a login challenge mailed a code is answered and mails a second code; a third at once is 429', async () => {
      const u = await emailUser();
      const asked = await login(t.url, u.username, u.password);
      assert.equal(asked.body.error, 'totp-required');
      assert.equal(asked.body.details.codeGenerated, true);
      const again = await login(t.url, u.username, u.password);
      assert.equal(again.body.details.codeGenerated, false, 'the live code is reused');
      const mailsBefore = t.mail.messages.length;
      const resent = await sendCode(u.username);
      assert.equal(resent.status, 200, 'the automatic send does not start the interval');
      assert.deepEqual(resent.body.emails.length, 1);
      assert.equal(t.mail.messages.length, mailsBefore + 1, 'a second code was mailed');
      assert.equal(await liveCodes(u.id), 2);
      clock.advance(5);
      const refused = await sendCode(u.username);
      assert.equal(refused.status, 429, 'two explicit requests in a row');
      assert.equal(refused.body.details.timeToReset, 55);
    });

    it('DDP: sendEmailCode right after a protected call answered totp-required (code mailed) returns the addresses and mails a code', async () => {
      const u = await emailUser();
      const ddp = await DdpTestClient.open(t.wsUrl);
      const code = await t.mail.nextCode(u.address, async () => {
        assert.equal((await ddpError(ddp.loginWithPassword(u.username, u.password))).error, 'totp-required');
      });
      await ddp.loginWithPassword(u.username, u.password, code);
      const stepUp = await ddpError(ddp.call('personalAccessTokens:generateToken', { tokenName: 'resend' }));
      assert.equal(stepUp.error, 'totp-required');
      assert.equal(stepUp.details?.codeGenerated, true);
      const mailsBefore = t.mail.messages.length;
      const newest = await t.mail.nextCode(u.address, async () => {
        assert.deepEqual(await ddp.call('sendEmailCode', u.username), [u.address]);
      });
      assert.equal(t.mail.messages.length, mailsBefore + 1);
      const token = await ddp.call('personalAccessTokens:generateToken', { tokenName: 'resend' }, { twoFactorCode: newest, twoFactorMethod: 'email' });
      assert.equal(typeof token, 'string');
      assert.equal((await ddpError(ddp.call('sendEmailCode', u.username))).error, 'error-too-many-requests', 'a second explicit request at once');
      ddp.close();
    });

    it('automatic sends count in the hourly cap: after ten, a challenge mails nothing more', async () => {
      const u = await emailUser();
      for (let i = 0; i < 10; i++) {
        // Logging in with the code uses it up, so the next challenge mails a new one.
        const code = await t.mail.nextCode(u.address, async () => {
          assert.equal((await login(t.url, u.username, u.password)).body.details.codeGenerated, true, `send ${i + 1}`);
        });
        assert.equal((await login(t.url, u.username, u.password, code)).status, 200);
      }
      const refused = await login(t.url, u.username, u.password);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.details.timeToReset, 3600);
    });

    it('a protected call right after a login with an email code mails a fresh code instead of answering 429', async () => {
      const u = await emailUser();
      const code = await t.mail.nextCode(u.address, () => login(t.url, u.username, u.password));
      const loggedIn = await login(t.url, u.username, u.password, code);
      assert.equal(loggedIn.status, 200);
      const auth = { userId: loggedIn.body.data.userId, authToken: loggedIn.body.data.authToken };
      const stepUp = await t.mail.nextCode(u.address, async () => {
        const asked = await rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: 'New Name' } } });
        assert.equal(asked.status, 400);
        assert.equal(asked.body.errorType, 'totp-required');
        assert.equal(asked.body.details.codeGenerated, true);
      });
      const done = await rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: 'New Name' } }, headers: { 'x-2fa-code': stepUp, 'x-2fa-method': 'email' } });
      assert.equal(done.status, 200);
      // Asking by hand right after the automatic send is answered (Rocket.Chat's "send again").
      assert.equal((await sendCode(u.username)).status, 200);
    });

    it('five wrong email codes burn the live ones (totp-max-attempts); the next call mails a fresh code that works', async () => {
      const u = await emailUser();
      const first = await t.mail.nextCode(u.address, () => login(t.url, u.username, u.password));
      const wrong = first === '000000' ? '111111' : '000000';
      for (let i = 0; i < 4; i++) assert.equal((await login(t.url, u.username, u.password, wrong)).body.error, 'totp-invalid');
      const fifth = await login(t.url, u.username, u.password, wrong);
      assert.equal(fifth.status, 401);
      assert.equal(fifth.body.error, 'totp-max-attempts');
      assert.equal(fifth.body.message, 'TOTP Maximun Failed Attempts Reached');
      assert.equal(await liveCodes(u.id), 0);
      assert.notEqual((await login(t.url, u.username, u.password, first)).status, 200, 'the burnt code is dead');
      // Spec §3.6: the next call sends a fresh code (an automatic send, held to the hourly caps only).
      let challenge: any;
      const fresh = await t.mail.nextCode(u.address, async () => { challenge = await login(t.url, u.username, u.password); });
      assert.equal(challenge.body.error, 'totp-required');
      assert.equal(challenge.body.details.codeGenerated, true);
      assert.equal((await login(t.url, u.username, u.password, fresh)).status, 200);
    });

    it('wrong email codes count in the 10-per-15-minutes window: fresh codes do not reset the guessing budget', async () => {
      const u = await emailUser();
      for (let round = 0; round < 2; round++) {
        const code = await t.mail.nextCode(u.address, () => login(t.url, u.username, u.password));
        const wrong = code === '000000' ? '111111' : '000000';
        for (let i = 0; i < 5; i++) await login(t.url, u.username, u.password, wrong);
        clock.advance(60);
      }
      const good = await t.mail.nextCode(u.address, () => login(t.url, u.username, u.password));
      const locked = await login(t.url, u.username, u.password, good);
      assert.equal(locked.body.error, 'totp-max-attempts', 'ten failures in the window refuse even a right code');
      // The first five failures were 120 s ago; once they are 900 s old the window has room.
      clock.advance(900 - 120 + 1);
      const fresh = await t.mail.nextCode(u.address, () => login(t.url, u.username, u.password));
      assert.equal((await login(t.url, u.username, u.password, fresh)).status, 200);
    });

    it('ten wrong TOTP codes lock the user out with totp-max-attempts until the 15-minute window passes', async () => {
      const username = `t${++n}`;
      await t.addUser({ username, password: 'pw' });
      const { secret } = await enrolOverRest(t.url, await restLogin(t.url, username, 'pw'), clock);
      for (let i = 0; i < 10; i++) {
        const r = await login(t.url, username, 'pw', wrongTotp(secret, clock.now()));
        assert.equal(r.body.error, 'totp-invalid', `failure ${i + 1}`);
      }
      const locked = await login(t.url, username, 'pw', nextTotp(clock, secret));
      assert.equal(locked.body.error, 'totp-max-attempts');
      clock.advance(900 - 30 + 1);
      assert.equal((await login(t.url, username, 'pw', totpAt(secret, clock.now()))).status, 200);
    });

    it('password-fallback failures lock out the same way', async () => {
      const username = `p${++n}`;
      await t.addUser({ username, password: 'right' });
      const auth = await restLogin(t.url, username, 'right');
      clock.advance(defaults.rememberFor); // past the new-account grace
      const call = (digest: string) => rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', {
        auth, body: { data: { name: 'New Name' } }, headers: { 'x-2fa-method': 'password', 'x-2fa-code': digest },
      });
      for (let i = 0; i < 10; i++) assert.equal((await call(sha256(`wrong ${i}`))).body.errorType, 'totp-invalid');
      assert.equal((await call(sha256('right'))).body.errorType, 'totp-max-attempts');
      clock.advance(901);
      assert.equal((await call(sha256('right'))).status, 200);
    });

    it('ten wrong passwords block the name for 300 s, even with the right password, on REST and DDP', async () => {
      const username = `l${++n}`;
      await t.addUser({ username, password: 'right' });
      for (let i = 0; i < 10; i++) {
        const r = await login(t.url, username, 'wrong');
        assert.equal(r.status, 401);
        assert.equal(r.body.error, 'Unauthorized');
      }
      const blocked = await login(t.url, username, 'right');
      assert.equal(blocked.status, 401);
      assert.equal(blocked.body.status, 'error');
      assert.equal(blocked.body.error, 'error-login-blocked-for-user');
      assert.equal(blocked.body.message, 'Login has been temporarily blocked For User');
      assert.equal(blocked.body.details.timeToReset, 300);
      assert.equal(blocked.headers.get('x-ratelimit-limit'), '10');
      const ddp = await DdpTestClient.open(t.wsUrl);
      const err = await ddpError(ddp.loginWithPassword(username, 'right'));
      assert.equal(err.error, 'error-login-blocked-for-user');
      assert.equal(err.reason, 'Login has been temporarily blocked For User');
      assert.equal(err.details?.timeToReset, 300);
      clock.advance(300);
      assert.equal((await ddp.loginWithPassword(username, 'right')).type, 'password');
      ddp.close();
    });

    it('the name is blocked however it is written, and an unknown name is blocked like a known one', async () => {
      const username = `m${++n}`;
      await t.addUser({ username, password: 'right' });
      for (let i = 0; i < 5; i++) await login(t.url, username, 'wrong');
      for (let i = 0; i < 5; i++) await login(t.url, `${username}@example.com`, 'wrong');
      assert.equal((await login(t.url, username.toUpperCase(), 'right')).body.error, 'error-login-blocked-for-user');
      for (let i = 0; i < 10; i++) await login(t.url, 'nobody-at-all', 'wrong');
      assert.equal((await login(t.url, 'nobody-at-all', 'wrong')).body.error, 'error-login-blocked-for-user');
    });

    it('a successful login clears the name\'s failures', async () => {
      const username = `s${++n}`;
      await t.addUser({ username, password: 'right' });
      for (let i = 0; i < 9; i++) await login(t.url, username, 'wrong');
      assert.equal((await login(t.url, username, 'right')).status, 200);
      for (let i = 0; i < 9; i++) assert.equal((await login(t.url, username, 'wrong')).body.error, 'Unauthorized');
      assert.equal((await login(t.url, username, 'right')).status, 200);
    });

    it('fifty wrong passwords from one address block every name from it with error-login-blocked-for-ip', async () => {
      const username = `i${++n}`;
      await t.addUser({ username, password: 'right' });
      for (let i = 0; i < 50; i++) assert.equal((await login(t.url, `stranger${i}`, 'wrong')).body.error, 'Unauthorized');
      const blocked = await login(t.url, username, 'right');
      assert.equal(blocked.status, 401);
      assert.equal(blocked.body.error, 'error-login-blocked-for-ip');
      assert.equal(blocked.body.message, 'Login has been temporarily blocked For IP');
      const spoofed = await rest(t.url, 'POST', '/api/v1/login', { body: { user: username, password: 'right' }, headers: { 'x-forwarded-for': '10.9.9.9' } });
      assert.equal(spoofed.body.error, 'error-login-blocked-for-ip', 'X-Forwarded-For from a peer that is no trusted proxy changes nothing');
      // A right password does not wipe an address's failures.
      clock.advance(300);
      assert.equal((await login(t.url, username, 'right')).status, 200);
    });

    it('limit rows whose hits are all out of their windows are purged', async () => {
      await login(t.url, `gone-${++n}`, 'wrong');
      const db = t.server.app.store.db;
      const count = async () => Number((await db.selectFrom('rate_limits').select((eb) => eb.fn.countAll<string | number>().as('c')).executeTakeFirstOrThrow()).c);
      assert.ok(await count() > 0);
      clock.advance(3601);
      await login(t.url, `fresh-${++n}`, 'wrong');
      assert.equal(await count(), 2, 'only the rows of this attempt (its name and its address) are left');
    });

    it('concurrent wrong passwords cannot get past the limit', async () => {
      const username = `c${++n}`;
      await t.addUser({ username, password: 'right' });
      const results = await Promise.all(Array.from({ length: 25 }, () => login(t.url, username, 'wrong')));
      const tried = results.filter((r) => r.body.error === 'Unauthorized').length;
      const blocked = results.filter((r) => r.body.error === 'error-login-blocked-for-user').length;
      assert.equal(tried, 10, 'exactly the limit was checked against the password');
      assert.equal(blocked, 15);
    });
  });
}

for (const store of storesUnderTest) {
  describe(`per-address limits behind a trusted reverse proxy (${store})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store, settings: { ...productionLimits, trustProxy: '127.0.0.1' } });
      await t.addUser({ username: 'vic', password: 'right' });
    });
    after(() => t.close());

    const from = (address: string, user: string, password: string) =>
      rest(t.url, 'POST', '/api/v1/login', { body: { user, password }, headers: { 'x-forwarded-for': `198.51.100.1, ${address}` } });

    it('counts the forwarded client address, so one client\'s failures do not block the others behind the proxy', async () => {
      for (let i = 0; i < 50; i++) assert.equal((await from('10.0.0.1', `stranger${i}`, 'wrong')).body.error, 'Unauthorized');
      assert.equal((await from('10.0.0.1', 'vic', 'right')).body.error, 'error-login-blocked-for-ip');
      assert.equal((await from('10.0.0.2', 'vic', 'right')).status, 200);
      const ddp = await DdpTestClient.open(t.wsUrl, { headers: { 'x-forwarded-for': '10.0.0.1' } });
      assert.equal((await ddpError(ddp.loginWithPassword('vic', 'right'))).error, 'error-login-blocked-for-ip');
      ddp.close();
      const trail = await t.server.app.store.audit.list({ offset: 0, count: 1 });
      assert.equal(trail.events[0]!.clientAddress, '10.0.0.1');
      assert.equal(trail.events[0]!.transport, 'ddp');
    });
  });
}
