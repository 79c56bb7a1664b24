// Spec §3.6: one code used by many calls at once succeeds exactly once, whichever transport
// the calls come over. (Twenty concurrent uses of one TOTP step: test/totp-use.test.ts.)

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import { DdpCallError, DdpTestClient } from './helpers/ddp.ts';
import { loginAttempt, rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { enrolOverRest } from './helpers/totp.ts';

const CALLS = 20;
const LOSING_ERRORS = ['totp-invalid', 'totp-max-attempts'];

const login = (url: string, user: string, password: string, code: string) => loginAttempt(url, user, password, code);

for (const store of storesUnderTest) {
  describe(`exactly-once codes under concurrency (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    before(async () => {
      t = await startTestServer({ store, clock });
    });
    after(() => t.close());

    /** Half the calls over REST, half over DDP (one connection each, as separate clients). */
    async function raceLogins(username: string, password: string, code: string): Promise<{ ok: number; errors: string[] }> {
      const sockets = await Promise.all(Array.from({ length: CALLS / 2 }, () => DdpTestClient.open(t.wsUrl)));
      const viaRest = Array.from({ length: CALLS / 2 }, () => login(t.url, username, password, code)
        .then((r) => (r.status === 200 ? null : String(r.body.error))));
      const viaDdp = sockets.map((ddp) => ddp.loginWithPassword(username, password, code)
        .then(() => null, (e: unknown) => (e instanceof DdpCallError ? String(e.error.error) : String(e))));
      const outcomes = await Promise.all([...viaRest, ...viaDdp]);
      for (const ddp of sockets) ddp.close();
      const errors = outcomes.filter((o): o is string => o !== null);
      return { ok: outcomes.length - errors.length, errors };
    }

    it(`of ${CALLS} concurrent logins with one email code, on REST and DDP, exactly one succeeds`, async () => {
      await t.addUser({ username: 'eve', password: 'eve pw', email2fa: true });
      const code = await t.mail.nextCode('eve@example.com', () =>
        rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: 'eve' } }));
      const { ok, errors } = await raceLogins('eve', 'eve pw', code);
      assert.equal(ok, 1);
      assert.equal(errors.length, CALLS - 1);
      for (const e of errors) assert.ok(LOSING_ERRORS.includes(e), e);
      assert.equal((await t.server.app.store.twoFactor.liveEmailCodes((await t.server.app.store.users.byUsername('eve'))!.id, clock.now())).length, 0);
    });

    it(`of ${CALLS} concurrent protected calls with one email code exactly one succeeds`, async () => {
      const user = await t.addUser({ username: 'fay', password: 'fay pw', email2fa: true });
      const first = await t.mail.nextCode('fay@example.com', () => rest(t.url, 'POST', '/api/v1/login', { body: { user: 'fay', password: 'fay pw' } }));
      const session = (await login(t.url, 'fay', 'fay pw', first)).body.data;
      const code = await t.mail.nextCode('fay@example.com', () =>
        rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: 'fay' } }));
      const results = await Promise.all(Array.from({ length: CALLS }, () => rest(t.url, 'POST', '/api/v1/users.2fa.disableEmail', {
        auth: { userId: session.userId, authToken: session.authToken }, headers: { 'x-2fa-code': code, 'x-2fa-method': 'email' },
      })));
      assert.equal(results.filter((r) => r.status === 200).length, 1);
      // A call that arrives after the winner finds email codes already off: that state error comes first.
      for (const r of results.filter((x) => x.status !== 200)) assert.ok([...LOSING_ERRORS, 'error-2fa-not-enabled'].includes(r.body.errorType), r.body.errorType);
      assert.equal((await t.server.app.store.users.byId(user.id))!.email2faEnabled, false);
    });

    it(`of ${CALLS} concurrent logins with one backup code exactly one succeeds, and the code is gone`, async () => {
      await t.addUser({ username: 'gil', password: 'gil pw' });
      const auth = await restLogin(t.url, 'gil', 'gil pw');
      const { codes } = await enrolOverRest(t.url, auth, clock);
      const { ok, errors } = await raceLogins('gil', 'gil pw', codes[0]!);
      assert.equal(ok, 1);
      for (const e of errors) assert.ok(LOSING_ERRORS.includes(e), e);
      const remaining = await rest(t.url, 'GET', '/api/v1/users.totp.codesRemaining', { auth });
      assert.equal(remaining.body.remaining, 11);
    });
  });
}
