// The realtime seeds (000_acc03c74931b4afe.txt and its older edition 002_7da1bbb7854962ca.txt),
// run as printed over a real WebSocket, with codes read from mail delivered over real SMTP.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import type { User } from '../src/core/accounts.ts';
import { ddpError, DdpTestClient } from './helpers/ddp.ts';
import { addRoom, emailUserSession, mailedCode, SEED_MESSAGE_ID, SEED_RID } from './helpers/realtime.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

// "Example call", character for character (the comma after the first member is missing in both editions).
const SEED_CALL = `{
    "msg": "callWithTwoFactorRequired"
    "code": "38290",
    "ddpMethod": "updateMessage",
    "id": "342",
    "method": "email",
    "params": [{
        "_id": "298gMs93982Le9A7pZjo2D2iB",
        "rid": "64a1f373376181965ab77f54",
        "msg": "Whats 4*!"
}]
        
}`;

// "Errors", character for character.
const SEED_TOTP_REQUIRED = `{
  "msg": "result",
  "id": "1",
  "error": {
    "isClientSafe": true,
    "error": "totp-required",
    "reason": "TOTP Required",
    "details": {
      "method": "email",
      "codeGenerated": false,
      "codeCount": 1,
      "codeExpires": [
        "2019-12-31T22:05:22.159Z"
      ],
      "availableMethods": [
        "email"
      ]
    },
    "message": "TOTP Required [totp-required]",
    "errorType": "Meteor.Error"
  }
}`;

/** The one repair the printed frame needs to be JSON. */
const SEED_CALL_REPAIRED = SEED_CALL.replace('"callWithTwoFactorRequired"\n', '"callWithTwoFactorRequired",\n');

/** Key order throughout, so "exactly as printed" includes the order a reader sees. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}${k}`, ...keyPaths(v, `${prefix}${k}.`)]);
}

for (const store of storesUnderTest) {
  describe(`the realtime seeds' examples, verbatim (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    let ezra: User;
    let ddp: DdpTestClient;

    before(async () => {
      t = await startTestServer({ store, clock });
      ({ user: ezra, ddp } = await emailUserSession(t, 'ezra'));
      await addRoom(t, SEED_RID, 'seed-room', [ezra]);
      await ddp.call('sendMessage', { _id: SEED_MESSAGE_ID, rid: SEED_RID, msg: 'Whats 2+2?' });
    });
    after(async () => {
      ddp.close();
      await t.close();
    });

    it("Meteor.call('2fa:enable-email') answers true with a verified email, and not-authorized when logged out", async () => {
      const anonymous = await DdpTestClient.open(t.wsUrl);
      const refused = await ddpError(anonymous.call('2fa:enable-email'));
      assert.deepEqual(refused, {
        isClientSafe: true, error: 'not-authorized', reason: 'Not authorized', message: 'Not authorized [not-authorized]', errorType: 'Meteor.Error',
      });
      anonymous.close();

      const { ddp: nina } = await emailUserSession(t, 'nina', { email2fa: false });
      assert.equal((await nina.call('twofold:me')).services.email2fa.enabled, false);
      assert.equal(await nina.call('2fa:enable-email'), true);
      assert.equal((await nina.call('twofold:me')).services.email2fa.enabled, true);
      nina.close();

      await t.addUser({ username: 'otto', password: 'otto pw', email: 'otto@example.com', verified: false });
      const otto = await DdpTestClient.open(t.wsUrl);
      await otto.loginWithPassword('otto', 'otto pw');
      const unverified = await ddpError(otto.call('2fa:enable-email'));
      assert.equal(unverified.error, 'error-invalid-user');
      assert.equal((await otto.call('twofold:me')).services.email2fa.enabled, false);
      otto.close();
    });

    it("Meteor.call('sendEmailCode', emailOrUsername) mails a code and answers with where it went", async () => {
      let result: unknown;
      const code = await mailedCode(t, clock, 'ezra@example.com', async () => { result = await ddp.call('sendEmailCode', 'ezra'); });
      assert.deepEqual(result, ['ezra@example.com']);
      assert.match(code, /^\d{6}$/);

      // Not logged in: the addresses are masked, as on REST.
      const anonymous = await DdpTestClient.open(t.wsUrl);
      await mailedCode(t, clock, 'ezra@example.com', async () => { result = await anonymous.call('sendEmailCode', 'ezra@example.com'); });
      assert.deepEqual(result, ['e•••a@example.com']);

      const missing = await ddpError(anonymous.call('sendEmailCode'));
      assert.equal(missing.error, 'error-parameter-required');
      const unknown = await ddpError(anonymous.call('sendEmailCode', 'nobody'));
      assert.equal(unknown.error, 'error-invalid-user');
      assert.equal(unknown.reason, 'Invalid user');
      anonymous.close();
    });

    it('a protected call without a code fails with the totp-required error exactly as the seed prints it', async () => {
      const { user: quinn, ddp: client } = await emailUserSession(t, 'quinn');
      // One live code, as in the seed (codeCount 1, codeGenerated false).
      const sentAt = clock.now() + 61_000;
      await mailedCode(t, clock, 'quinn@example.com', () => client.call('sendEmailCode', quinn.username));

      client.send({ msg: 'method', id: '1', method: '2fa:disable-email', params: [] });
      const frame = await client.waitFor((f) => f.msg === 'result' && f.id === '1');
      const seed = JSON.parse(SEED_TOTP_REQUIRED);
      const expiry = new Date(sentAt + t.server.app.settings.emailCodeTtl * 1000).toISOString();
      const expected = { ...seed, error: { ...seed.error, details: { ...seed.error.details, codeExpires: [expiry], emailOrUsername: 'quinn', destinations: ['q•••n@example.com'] } } };
      assert.deepEqual(frame, expected);
      // Same keys in the same order; the only additions are spec §3.3's `emailOrUsername`, then Twofold's masked `destinations`, last.
      assert.deepEqual(keyPaths(frame), [...keyPaths(seed).slice(0, 12), 'error.details.emailOrUsername', 'error.details.destinations', ...keyPaths(seed).slice(12)]);
      client.close();
    });

    it('a login by username is challenged with every verified address, masked, as details.destinations', async () => {
      const rosa = await t.addUser({ username: 'rosa', password: 'rosa pw', email: 'rosa@example.com', email2fa: true });
      clock.advance(1); // added after the first, so listed after it
      await t.server.app.store.users.addEmail(rosa.id, 'rk@example.org', true, clock.now());
      await t.server.app.store.users.addEmail(rosa.id, 'unseen@example.org', false, clock.now());
      clock.advance(t.server.app.settings.rememberFor + 1); // past the new-user grace
      const anonymous = await DdpTestClient.open(t.wsUrl);
      let refused: any;
      await mailedCode(t, clock, 'rosa@example.com', async () => { refused = await ddpError(anonymous.loginWithPassword('rosa', 'rosa pw')); });
      assert.equal(refused.error, 'totp-required');
      assert.deepEqual(refused.details.destinations, ['r•••a@example.com', 'r•••@example.org']);
      assert.equal(Object.keys(refused.details).at(-1), 'destinations');
      anonymous.close();
    });

    it("the seed's callWithTwoFactorRequired frame as printed is not JSON: the server says so and the connection stays", async () => {
      ddp.send(SEED_CALL);
      const answer = await ddp.waitFor((f) => f.msg === 'error');
      assert.equal(answer.reason, 'Bad request: not JSON');
      assert.equal(answer.offendingMessage, SEED_CALL);
      assert.equal((await ddp.call('twofold:me')).username, 'ezra');
    });

    it("the seed's frame with its own code 38290 is refused with totp-invalid and the message is unchanged", async () => {
      ddp.send(SEED_CALL_REPAIRED);
      const frame = await ddp.waitFor((f) => f.msg === 'result' && f.id === '342');
      assert.equal(frame.error.error, 'totp-invalid');
      assert.equal(frame.error.reason, 'TOTP Invalid');
      assert.equal(frame.error.details.method, 'email');
      await ddp.waitFor((f) => f.msg === 'updated' && f.methods.includes('342'));
      const { messages } = await ddp.call('loadHistory', SEED_RID);
      assert.equal(messages.find((m: any) => m._id === SEED_MESSAGE_ID).msg, 'Whats 2+2?');
    });

    it("the seed's frame with the emailed code runs updateMessage and answers with the edited message", async () => {
      const code = await mailedCode(t, clock, 'ezra@example.com', () => ddp.call('sendEmailCode', 'ezra'));
      ddp.send(SEED_CALL_REPAIRED.replace('"38290"', JSON.stringify(code)));
      const frame = await ddp.waitFor((f) => f.msg === 'result' && f.id === '342');
      assert.ok(!('error' in frame), JSON.stringify(frame));
      assert.equal(frame.result._id, SEED_MESSAGE_ID);
      assert.equal(frame.result.rid, SEED_RID);
      assert.equal(frame.result.msg, 'Whats 4*!');
      assert.deepEqual(frame.result.editedBy, { _id: ezra.id, username: 'ezra' });
      assert.deepEqual(frame.result.editedAt, { $date: clock.now() });
      await ddp.waitFor((f) => f.msg === 'updated' && f.methods.includes('342'));
      const { messages } = await ddp.call('loadHistory', SEED_RID);
      assert.equal(messages.find((m: any) => m._id === SEED_MESSAGE_ID).msg, 'Whats 4*!');
      // The code was used up.
      ddp.send(SEED_CALL_REPAIRED.replace('"38290"', JSON.stringify(code)));
      assert.equal((await ddp.waitFor((f) => f.msg === 'result' && f.id === '342')).error.error, 'totp-invalid');
    });

    it("the payload table's pinMessage example runs through Meteor.call('callWithTwoFactorRequired', payload)", async () => {
      const code = await mailedCode(t, clock, 'ezra@example.com', () => ddp.call('sendEmailCode', 'ezra'));
      const pinned = await ddp.call('callWithTwoFactorRequired', {
        code,
        ddpMethod: 'pinMessage',
        method: 'email',
        params: [{ _id: '298gMs93982Le9A7pZjo2D2iB', rid: '64a1f373376181965ab77f54', msg: 'Whats 4*!' }],
      });
      assert.equal(pinned._id, SEED_MESSAGE_ID);
      assert.equal(pinned.pinned, true);
      assert.deepEqual(pinned.pinnedBy, { _id: ezra.id, username: 'ezra' });
    });

    it("Meteor.call('2fa:disable-email') asks for a code, then answers true", async () => {
      const { ddp: dana } = await emailUserSession(t, 'dana');
      let challenge: any;
      clock.advance(61);
      const code = await t.mail.nextCode('dana@example.com', async () => { challenge = await ddpError(dana.call('2fa:disable-email')); });
      assert.equal(challenge.error, 'totp-required');
      assert.equal(challenge.details.method, 'email');
      assert.equal(challenge.details.codeGenerated, true);
      assert.equal(challenge.details.codeCount, 1);
      assert.equal(await dana.call('2fa:disable-email', { twoFactorCode: code, twoFactorMethod: 'email' }), true);
      assert.equal((await dana.call('twofold:me')).services.email2fa.enabled, false);
      dana.close();
    });
  });
}
