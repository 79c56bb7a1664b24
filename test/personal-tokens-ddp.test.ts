// The personal access token methods over DDP, as Rocket.Chat's web client calls them.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ddpError, DdpTestClient, sha256 } from './helpers/ddp.ts';
import { twoFactorWorld, type TwoFactorWorld } from './helpers/rest-2fa.ts';
import { storesUnderTest } from './helpers/stores.ts';

for (const store of storesUnderTest) {
  describe(`DDP: personalAccessTokens:* (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    it('generate, regenerate and remove answer a token string, a new token string and true', async () => {
      const u = await w.plainUser();
      const ddp = await DdpTestClient.open(w.t.wsUrl);
      await ddp.loginWithPassword(u.username, u.password);
      const asked = await ddpError(ddp.call('personalAccessTokens:generateToken', { tokenName: 'bot', bypassTwoFactor: true }));
      assert.equal(asked.error, 'totp-required');
      assert.equal(asked.details?.method, 'password');

      const second = { twoFactorCode: sha256(u.password), twoFactorMethod: 'password' };
      const token = await ddp.call('personalAccessTokens:generateToken', { tokenName: 'bot', bypassTwoFactor: true }, second);
      assert.equal(typeof token, 'string');
      // Always asked: the success just before is not remembered for token calls.
      assert.equal((await ddpError(ddp.call('personalAccessTokens:regenerateToken', { tokenName: 'bot' }))).error, 'totp-required');
      const renewed = await ddp.call('personalAccessTokens:regenerateToken', { tokenName: 'bot' }, second);
      assert.equal(typeof renewed, 'string');
      assert.notEqual(renewed, token);
      const me = await w.call('GET', '/api/v1/me', { auth: { userId: u.id, authToken: renewed } });
      assert.equal(me.status, 200);
      assert.equal(await ddp.call('personalAccessTokens:removeToken', { tokenName: 'bot' }, second), true);
      assert.equal((await ddpError(ddp.call('personalAccessTokens:removeToken', { tokenName: 'bot' }))).error, 'error-token-not-found');
      ddp.close();
    });

    it('without a login the methods are refused', async () => {
      const ddp = await DdpTestClient.open(w.t.wsUrl);
      const e = await ddpError(ddp.call('personalAccessTokens:generateToken', { tokenName: 'x' }));
      assert.equal(e.error, 'not-authorized');
      ddp.close();
    });
  });
}
