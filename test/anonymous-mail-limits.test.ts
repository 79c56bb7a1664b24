// Issue 11, point 5: the endpoints that mail a verification link (sign-up, "send the link
// again", an email change) are limited per client address and per target address, in the
// database, with the production defaults. A flood gets 429 and mails nothing more.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import { ddpError, DdpTestClient, sha256 } from './helpers/ddp.ts';
import { defaultSettings, productionLimits } from './helpers/limits.ts';
import { rest, restLogin, type RestResponse } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

const FLOOD = 50;
const VERIFY = 'Verify your email address';

describe('sign-up and verification mail limit defaults', () => {
  it('are 10 sign-ups and 20 verification mails per client address per hour; 1 per 60 s and 5 per hour to one inbox', () => {
    assert.equal(defaultSettings.registerAddressPerHour, 10);
    assert.equal(defaultSettings.verifyMailAddressPerHour, 20);
    assert.equal(defaultSettings.verifyMailTargetInterval, 60);
    assert.equal(defaultSettings.verifyMailTargetPerHour, 5);
  });
});

function assertTooMany(res: RestResponse, limit: number) {
  assert.equal(res.status, 429, JSON.stringify(res.body));
  assert.equal(res.body.success, false);
  assert.equal(res.body.errorType, 'error-too-many-requests');
  assert.ok(res.body.details.timeToReset >= 1);
  assert.equal(res.headers.get('x-ratelimit-limit'), String(limit));
  assert.equal(res.headers.get('x-ratelimit-remaining'), '0');
  assert.ok(Number(res.headers.get('x-ratelimit-reset')) > 0);
  assert.equal(res.headers.get('retry-after'), String(res.body.details.timeToReset));
}

for (const store of storesUnderTest) {
  describe(`sign-up and verification mail limits with the production defaults (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    let n = 0;
    before(async () => {
      t = await startTestServer({ store, clock, settings: { ...productionLimits, trustProxy: '127.0.0.1' } });
    });
    after(() => t.close());
    // Every window is an hour or less: a test starting an hour later starts from nothing.
    beforeEach(() => clock.advance(3601));

    const register = (body: Record<string, unknown>, from: string) =>
      rest(t.url, 'POST', '/api/v1/users.register', { body, headers: { 'x-forwarded-for': from } });
    const mailsTo = (address: string, subject = VERIFY) => t.mail.messages.filter((m) => m.to.includes(address) && m.subject === subject).length;

    it(`${FLOOD} concurrent sign-ups from one client address: 10 accounts and 10 mails, the rest 429`, async () => {
      const run = ++n;
      const sentBefore = t.mail.messages.length;
      const answers = await Promise.all(Array.from({ length: FLOOD }, (_, i) =>
        register({ username: `flood${run}-${i}`, email: `flood${run}-${i}@example.com`, pass: 'pw' }, '10.0.0.1')));
      const ok = answers.filter((a) => a.status === 200);
      assert.equal(ok.length, defaultSettings.registerAddressPerHour);
      for (const a of answers.filter((x) => x.status !== 200)) assertTooMany(a, defaultSettings.registerAddressPerHour);
      assert.equal(t.mail.messages.length - sentBefore, defaultSettings.registerAddressPerHour);
      const made = (await t.server.app.store.users.list()).filter((u) => u.username.startsWith(`flood${run}-`));
      assert.equal(made.length, defaultSettings.registerAddressPerHour);
      // Another client address is not held up by this one.
      assert.equal((await register({ username: `other${run}`, email: `other${run}@example.com`, pass: 'pw' }, '10.0.0.2')).status, 200);
    });

    it(`${FLOOD} concurrent sign-ups naming one inbox from ${FLOOD} client addresses: one mail, the rest 429 (also over DDP)`, async () => {
      const run = ++n;
      const target = `target${run}@example.com`;
      const answers = await Promise.all(Array.from({ length: FLOOD }, (_, i) =>
        register({ username: `t${run}-${i}`, email: target, pass: 'pw' }, `10.1.${run}.${i + 1}`)));
      assert.equal(answers.filter((a) => a.status === 200).length, 1);
      for (const a of answers.filter((x) => x.status !== 200)) assertTooMany(a, 1);
      assert.equal(mailsTo(target), 1);

      const ddp = await DdpTestClient.open(t.wsUrl, { headers: { 'x-forwarded-for': `10.2.${run}.1` } });
      const refused = await ddpError(ddp.call('registerUser', { username: `t${run}-ddp`, email: `TARGET${run}@Example.com`, pass: 'pw' }));
      ddp.close();
      assert.equal(refused.error, 'error-too-many-requests');
      assert.ok((refused.details?.timeToReset as number) >= 1);
      assert.equal(mailsTo(target), 1);
    });

    it(`${FLOOD} concurrent "send the link again": one mail per 60 s, 5 per hour, the rest 429 (REST and DDP)`, async () => {
      const run = ++n;
      const address = `again${run}@example.com`;
      await t.addUser({ username: `again${run}`, password: 'pw', email: address, verified: false });
      const auth = await restLogin(t.url, `again${run}`, 'pw');
      const resend = () => rest(t.url, 'POST', '/api/v1/users.sendConfirmationEmail', { auth, body: { email: address } });

      const answers = await Promise.all(Array.from({ length: FLOOD }, resend));
      assert.equal(answers.filter((a) => a.status === 200).length, 1);
      for (const a of answers.filter((x) => x.status !== 200)) assertTooMany(a, 1);
      assert.equal(mailsTo(address), 1);

      for (let sent = 2; sent <= defaultSettings.verifyMailTargetPerHour; sent++) {
        clock.advance(61);
        assert.equal((await resend()).status, 200);
      }
      clock.advance(61);
      const hourly = await resend();
      assertTooMany(hourly, defaultSettings.verifyMailTargetPerHour);
      assert.equal(mailsTo(address), defaultSettings.verifyMailTargetPerHour);

      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.loginWithPassword(`again${run}`, 'pw');
      assert.equal((await ddpError(ddp.call('sendConfirmationEmail', address))).error, 'error-too-many-requests');
      ddp.close();
      assert.equal(mailsTo(address), defaultSettings.verifyMailTargetPerHour);
    });

    it('an email change to a flooded inbox is refused before anything changes', async () => {
      const run = ++n;
      const target = `victim${run}@example.com`;
      assert.equal((await register({ username: `victim${run}`, email: target, pass: 'pw' }, '10.3.0.1')).status, 200);
      await t.addUser({ username: `mover${run}`, password: 'mover pw', email: `mover${run}@example.com` });
      const auth = await restLogin(t.url, `mover${run}`, 'mover pw');
      const headers = { 'x-2fa-code': sha256('mover pw'), 'x-2fa-method': 'password' };
      // The victim's sign-up mail used the inbox's slot for this minute; deleting the
      // account frees the address but not the inbox's budget.
      const victim = await t.server.app.store.users.byUsername(`victim${run}`);
      await t.server.app.store.users.delete(victim!.id);
      const change = await rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', { auth, headers, body: { data: { email: target } } });
      assertTooMany(change, 1);
      const me = await rest(t.url, 'GET', '/api/v1/me', { auth });
      assert.deepEqual(me.body.emails, [{ address: `mover${run}@example.com`, verified: true }]);
      assert.equal(mailsTo(target), 1);
    });
  });
}
