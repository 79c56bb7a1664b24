import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sha256 } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

const tokenOf = (text: string) => decodeURIComponent(text.match(/verify-email#token=([^\s]+)/)![1]!);

for (const store of storesUnderTest) {
  describe(`email verification (${store})`, () => {
    let t: TestServer;
    before(async () => { t = await startTestServer({ store }); });
    after(() => t.close());

    it('a new account gets a verification mail; the link token sets verified, once', async () => {
      const reg = await rest(t.url, 'POST', '/api/v1/users.register', { body: { username: 'nina', email: 'nina@example.com', pass: 'nina pw', name: 'Nina' } });
      assert.equal(reg.status, 200, JSON.stringify(reg.body));
      assert.deepEqual(reg.body.user.emails, [{ address: 'nina@example.com', verified: false }]);
      const mail = await t.mail.waitFor((m) => m.to.includes('nina@example.com') && m.subject === 'Verify your email address');
      assert.ok(mail.html.includes('verify-email#token='));
      const token = tokenOf(mail.text);

      const auth = await restLogin(t.url, 'nina', 'nina pw');
      // Without a verified address email 2FA cannot be turned on.
      const early = await rest(t.url, 'POST', '/api/v1/users.2fa.enableEmail', { auth });
      assert.equal(early.body.errorType, 'error-invalid-user');

      const verified = await rest(t.url, 'POST', '/api/v1/users.verifyEmail', { body: { token } });
      assert.deepEqual(verified.body, { email: 'nina@example.com', verified: true, success: true });
      const me = await rest(t.url, 'GET', '/api/v1/me', { auth });
      assert.deepEqual(me.body.emails, [{ address: 'nina@example.com', verified: true }]);
      const again = await rest(t.url, 'POST', '/api/v1/users.verifyEmail', { body: { token } });
      assert.equal(again.body.errorType, 'error-invalid-token');
      assert.equal((await rest(t.url, 'POST', '/api/v1/users.2fa.enableEmail', { auth })).body.success, true);
    });

    it('changing one\'s email asks for a second factor, then mails a link to the new address', async () => {
      await t.addUser({ username: 'omar', password: 'omar pw', email: 'omar@example.com' });
      const auth = await restLogin(t.url, 'omar', 'omar pw');
      const body = { data: { email: 'omar.new@example.com' } };
      const asked = await rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', { auth, body });
      assert.equal(asked.status, 400);
      assert.equal(asked.body.errorType, 'totp-required');
      assert.equal(asked.body.details.method, 'password');
      const done = await rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', {
        auth, body, headers: { 'x-2fa-code': sha256('omar pw'), 'x-2fa-method': 'password' },
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.deepEqual(done.body.user.emails, [{ address: 'omar.new@example.com', verified: false }]);
      const mail = await t.mail.waitFor((m) => m.to.includes('omar.new@example.com'));
      const resend = await rest(t.url, 'POST', '/api/v1/users.sendConfirmationEmail', { auth, body: { email: 'omar.new@example.com' } });
      assert.equal(resend.body.success, true);
      const verified = await rest(t.url, 'POST', '/api/v1/users.verifyEmail', { body: { token: tokenOf(mail.text) } });
      assert.equal(verified.body.verified, true);
    });

    it('an expired or unknown token is refused', async () => {
      const res = await rest(t.url, 'POST', '/api/v1/users.verifyEmail', { body: { token: 'not-a-token' } });
      assert.equal(res.status, 400);
      assert.equal(res.body.errorType, 'error-invalid-token');
    });
  });
}
