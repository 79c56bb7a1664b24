// A lost phone is never a dead end (issue 14 §1): a user with email codes on turns the
// authenticator app off, or makes new backup codes, with an emailed code instead of the app's
// (`x-2fa-method: email` on REST, `twoFactorMethod: 'email'` on DDP), then enrols a new app.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import { ddpError, DdpTestClient } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { enrolOverRest, nextTotp, totpAt } from './helpers/totp.ts';

type Auth = { userId: string; authToken: string };
const byEmail = (code?: string): Record<string, string> => (code === undefined ? { 'x-2fa-method': 'email' } : { 'x-2fa-method': 'email', 'x-2fa-code': code });

for (const store of storesUnderTest) {
  describe(`lost authenticator: step-up by email (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    let admin: Auth;
    before(async () => {
      t = await startTestServer({ store, clock });
      await t.addUser({ username: 'root', password: 'root pw', roles: ['user', 'admin'] });
      admin = await restLogin(t.url, 'root', 'root pw');
    });
    after(() => t.close());

    /** A user with the app on (and email codes too unless told otherwise), logged in over REST. */
    async function withApp(username: string, opts: { email2fa?: boolean } = { email2fa: true }) {
      const user = await t.addUser({ username, password: `${username} pw` });
      const auth = await restLogin(t.url, username, `${username} pw`);
      const enrolment = await enrolOverRest(t.url, auth, clock);
      if (opts.email2fa) assert.equal((await rest(t.url, 'POST', '/api/v1/users.2fa.enableEmail', { auth })).status, 200);
      return { user, auth, address: `${username}@example.com`, ...enrolment };
    }

    const services = async (auth: Auth) => (await rest(t.url, 'GET', '/api/v1/me', { auth })).body.services;
    const events = async (userId: string, event: string) => {
      const res = await rest(t.url, 'GET', `/api/v1/audit.2fa?userId=${userId}&count=100`, { auth: admin });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body.events as { event: string; details?: Record<string, unknown> }[]).filter((e) => e.event === event);
    };

    it('REST: users.totp.disable with the email method named mails a code, and that code turns the app off (audit via email)', async () => {
      const { user, auth, address } = await withApp('ana');
      let asked: Awaited<ReturnType<typeof rest>> | undefined;
      const code = await t.mail.nextCode(address, async () => {
        asked = await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, headers: byEmail() });
      });
      assert.equal(asked!.status, 400);
      assert.equal(asked!.body.errorType, 'totp-required');
      assert.equal(asked!.body.details.method, 'email');
      assert.equal(asked!.body.details.codeGenerated, true);
      assert.deepEqual(asked!.body.details.availableMethods, ['totp', 'email']);
      assert.deepEqual((await services(auth)).totp, { enabled: true }, 'nothing changed by asking');

      const done = await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, headers: byEmail(`${code.slice(0, 3)}-${code.slice(3)}`) });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.deepEqual(done.body, { success: true });
      assert.deepEqual(await services(auth), { totp: { enabled: false }, email2fa: { enabled: true } });
      const [disabled] = await events(user.id, 'method-disabled');
      assert.deepEqual(disabled?.details, { via: 'email' });
      // The emailed code was spent: it does not work twice.
      const again = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'ana', password: 'ana pw', code } });
      assert.equal(again.body.error, 'totp-invalid');
    });

    it('REST: users.totp.regenerateCodes with an emailed code returns 12 new codes; the old ones stop working (audit via email)', async () => {
      const { user, auth, address, codes } = await withApp('ben');
      const code = await t.mail.nextCode(address, () => rest(t.url, 'POST', '/api/v1/users.totp.regenerateCodes', { auth, headers: byEmail() }));
      const fresh = await rest(t.url, 'POST', '/api/v1/users.totp.regenerateCodes', { auth, headers: byEmail(code) });
      assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
      assert.equal(fresh.body.codes.length, 12);
      assert.equal((await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'ben', password: 'ben pw', code: codes[0] } })).body.error, 'totp-invalid');
      assert.equal((await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'ben', password: 'ben pw', code: fresh.body.codes[0] } })).status, 200);
      const [regenerated] = await events(user.id, 'backup-codes-regenerated');
      assert.deepEqual(regenerated?.details, { via: 'email' });
    });

    it('a wrong emailed code is refused, counts in the failure budget and changes nothing', async () => {
      const { user, auth, address } = await withApp('cal');
      const code = await t.mail.nextCode(address, () => rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, headers: byEmail() }));
      const wrong = code === '000000' ? '111111' : '000000';
      const before = await t.server.app.store.twoFactor.countFailures(user.id, 0);
      const refused = await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, headers: byEmail(wrong) });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.errorType, 'totp-invalid');
      assert.equal(refused.body.details.method, 'email');
      const { failureLimit, emailCodeMaxAttempts } = t.server.app.settings;
      assert.equal(refused.body.details.attemptsLeft, Math.min(failureLimit - before - 1, emailCodeMaxAttempts - 1));
      assert.equal(await t.server.app.store.twoFactor.countFailures(user.id, 0), before + 1, 'one failure counted');
      assert.deepEqual((await services(auth)).totp, { enabled: true });

      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.call('login', { resume: auth.authToken });
      assert.equal(await ddp.call('2fa:disable', { twoFactorCode: wrong, twoFactorMethod: 'email' }), false, 'DDP answers false, as to a wrong app code');
      assert.equal(await t.server.app.store.twoFactor.countFailures(user.id, 0), before + 2);
      ddp.close();
    });

    it('a user without email codes cannot take the email way: the app\'s code is asked, nothing is mailed or counted', async () => {
      const { user, auth, secret } = await withApp('dee', { email2fa: false });
      const mails = t.mail.messages.length;
      for (const headers of [byEmail(), byEmail('123456')]) {
        const res = await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, headers });
        assert.equal(res.status, 400);
        assert.equal(res.body.errorType, 'totp-required', JSON.stringify(headers));
        assert.equal(res.body.details.method, 'totp');
        assert.deepEqual(res.body.details.availableMethods, ['totp']);
      }
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.call('login', { resume: auth.authToken });
      const ddpAsked = await ddpError(ddp.call('2fa:regenerateCodes', { twoFactorCode: '123456', twoFactorMethod: 'email' }));
      assert.equal(ddpAsked.error, 'totp-required');
      assert.equal(ddpAsked.details?.method, 'totp');
      ddp.close();
      assert.equal(t.mail.messages.length, mails, 'nothing mailed');
      assert.equal(await t.server.app.store.twoFactor.countFailures(user.id, 0), 0, 'nothing counted');
      assert.deepEqual((await services(auth)).totp, { enabled: true });
      // Without the email way and without a code, the code is a missing parameter, as before.
      assert.equal((await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, body: {} })).body.errorType, 'error-parameter-required');
      // The app's code still turns it off.
      assert.equal((await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, body: { code: nextTotp(clock, secret) } })).status, 200);
    });

    it('the app\'s code path is unchanged, with email codes on too: REST body code, DDP 2fa:disable(code), audit without via', async () => {
      const { user, auth, secret } = await withApp('eve');
      const fresh = await rest(t.url, 'POST', '/api/v1/users.totp.regenerateCodes', { auth, body: { code: nextTotp(clock, secret) } });
      assert.equal(fresh.status, 200);
      assert.deepEqual((await events(user.id, 'backup-codes-regenerated'))[0]?.details ?? {}, {});
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.call('login', { resume: auth.authToken });
      assert.equal(await ddp.call('2fa:disable', nextTotp(clock, secret)), true);
      ddp.close();
      assert.deepEqual((await events(user.id, 'method-disabled'))[0]?.details ?? {}, {});
    });

    it('DDP: 2fa:disable and 2fa:regenerateCodes take {twoFactorCode, twoFactorMethod: "email"}; callWithTwoFactorRequired too', async () => {
      const { user, auth, address } = await withApp('fay');
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.call('login', { resume: auth.authToken });
      let asked: Awaited<ReturnType<typeof ddpError>> | undefined;
      const code = await t.mail.nextCode(address, async () => {
        asked = await ddpError(ddp.call('2fa:regenerateCodes', { twoFactorCode: '', twoFactorMethod: 'email' }));
      });
      assert.equal(asked!.error, 'totp-required');
      assert.equal(asked!.details?.method, 'email');
      const fresh = await ddp.call('2fa:regenerateCodes', { twoFactorCode: code, twoFactorMethod: 'email' }) as { codes: string[] };
      assert.equal(fresh.codes.length, 12);

      const ddpOff = await DdpTestClient.open(t.wsUrl);
      const { address: gilAddress, auth: gil } = await withApp('gil');
      await ddpOff.call('login', { resume: gil.authToken });
      const gilCode = await t.mail.nextCode(gilAddress, async () => {
        assert.equal((await ddpError(ddpOff.call('2fa:disable', { twoFactorCode: '', twoFactorMethod: 'email' }))).details?.method, 'email');
      });
      assert.equal(await ddpOff.call('2fa:disable', { twoFactorCode: gilCode, twoFactorMethod: 'email' }), true);
      assert.equal((await ddpOff.call('twofold:me')).services.totp.enabled, false);
      ddpOff.close();

      const second = await t.mail.nextCode(address, () => rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: 'fay' } }));
      const done = await ddp.call('callWithTwoFactorRequired', { ddpMethod: '2fa:disable', method: 'email', code: second, params: [] });
      assert.equal(done, true);
      assert.equal((await ddp.call('twofold:me')).services.totp.enabled, false);
      ddp.close();
      const [disabled] = await events(user.id, 'method-disabled');
      assert.deepEqual(disabled?.details, { via: 'email' });
    });

    it('replacing a lost app: sign in with an emailed code, turn the app off by email, enrol a new one (asked by email), sign in with it', async () => {
      const { address, secret: oldSecret } = await withApp('gus');
      let asked: Awaited<ReturnType<typeof rest>> | undefined;
      const loginCode = await t.mail.nextCode(address, async () => {
        asked = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'gus', password: 'gus pw' }, headers: byEmail() });
      });
      assert.equal(asked!.body.details.method, 'email');
      const signedIn = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'gus', password: 'gus pw' }, headers: byEmail(loginCode) });
      assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
      const auth = { userId: signedIn.body.data.userId, authToken: signedIn.body.data.authToken };

      const offCode = await t.mail.nextCode(address, () => rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, headers: byEmail() }));
      assert.equal((await rest(t.url, 'POST', '/api/v1/users.totp.disable', { auth, headers: byEmail(offCode) })).status, 200);

      // Enrolment asks a second factor by policy; with the app gone that is an emailed code.
      let enrolAsked: Awaited<ReturnType<typeof rest>> | undefined;
      const enrolCode = await t.mail.nextCode(address, async () => {
        enrolAsked = await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth });
      });
      assert.equal(enrolAsked!.body.errorType, 'totp-required');
      assert.equal(enrolAsked!.body.details.method, 'email');
      const started = await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth, headers: byEmail(enrolCode) });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      const newSecret = started.body.secret as string;
      assert.notEqual(newSecret, oldSecret);
      const validated = await rest(t.url, 'POST', '/api/v1/users.totp.validate', { auth, body: { code: nextTotp(clock, newSecret) } });
      assert.equal(validated.status, 200, JSON.stringify(validated.body));

      clock.advance(30);
      const oldApp = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'gus', password: 'gus pw', code: totpAt(oldSecret, clock.now()) } });
      assert.equal(oldApp.body.error, 'totp-invalid', 'the lost phone\'s codes are worthless');
      const newApp = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'gus', password: 'gus pw', code: nextTotp(clock, newSecret) } });
      assert.equal(newApp.status, 200, JSON.stringify(newApp.body));
    });
  });
}
