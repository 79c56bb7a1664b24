// Issue 14 §2: a sign-in that passed a second factor counts as a recent success, so the first
// protected call right after it is not asked again; always-ask calls still are.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadSettings } from '../src/config/settings.ts';
import { DdpTestClient, ddpError } from './helpers/ddp.ts';
import { mailedCode } from './helpers/realtime.ts';
import { twoFactorWorld, type TwoFactorWorld } from './helpers/rest-2fa.ts';
import { storesUnderTest } from './helpers/stores.ts';

describe('the remember-login setting', () => {
  it('is on by default', () => {
    assert.equal(loadSettings({}).rememberLogin, true);
    assert.equal(loadSettings({ TWOFOLD_REMEMBER_LOGIN: 'false' }).rememberLogin, false);
  });
});

for (const store of storesUnderTest) {
  describe(`a sign-in with a second factor counts as recent (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store, { settings: { rememberLogin: true } }); });
    after(() => w.t.close());

    it('REST: the first rememberable call after a login with an email code is not asked again', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const enrol = await w.call('POST', '/api/v1/users.totp.enable', { auth });
      assert.equal(enrol.status, 200, JSON.stringify(enrol.body));
      assert.match(enrol.body.url, /^otpauth:\/\/totp\//);
    });

    it('REST: always-ask calls still ask right after the login', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      w.tick();
      const res = await w.call('POST', '/api/v1/users.2fa.disableEmail', { auth });
      assert.equal(res.status, 400);
      assert.equal(res.body.errorType, 'totp-required');
    });

    it('REST: the same token from another browser is asked', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      w.tick();
      const res = await w.call('POST', '/api/v1/users.totp.enable', { auth, headers: { 'user-agent': 'another browser' } });
      assert.equal(res.status, 400);
      assert.equal(res.body.errorType, 'totp-required');
    });

    it('REST: once the remember window has passed, the call is asked again', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      w.clock.advance(w.t.server.app.settings.rememberFor + 1);
      const res = await w.call('POST', '/api/v1/users.totp.enable', { auth });
      assert.equal(res.status, 400);
      assert.equal(res.body.errorType, 'totp-required');
    });

    it('REST: a login that asked no second factor does not make the next call pass', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const res = await w.call('POST', '/api/v1/users.totp.enable', { auth });
      assert.equal(res.status, 400);
      assert.equal(res.body.errorType, 'totp-required');
      assert.equal(res.body.details.method, 'password');
    });

    it('DDP: a login answered with {totp: {login, code}} lets the next protected method through', async () => {
      const u = await w.emailUser();
      const ddp = await DdpTestClient.open(w.t.wsUrl);
      try {
        const code = await mailedCode(w.t, w.clock, u.address, () => ddpError(ddp.loginWithPassword(u.username, u.password)));
        await ddp.loginWithPassword(u.username, u.password, code);
        const enrol = await ddp.call('2fa:enable');
        assert.match(enrol.url, /^otpauth:\/\/totp\//);
        w.tick();
        const always = await ddpError(ddp.call('2fa:disable-email'));
        assert.equal(always.error, 'totp-required');
      } finally {
        ddp.close();
      }
    });
  });
}
