import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ddpError, DdpTestClient } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

for (const store of storesUnderTest) {
  describe(`every call re-checks its session (${store})`, () => {
    let t: TestServer;
    before(async () => { t = await startTestServer({ store }); });
    after(() => t.close());

    it('a deactivated user is refused at the next call, over REST and on a logged-in DDP connection', async () => {
      const user = await t.addUser({ username: 'dora', password: 'dora pw' });
      const auth = await restLogin(t.url, 'dora', 'dora pw');
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.loginWithPassword('dora', 'dora pw');
      assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth })).status, 200);
      assert.equal((await ddp.call('twofold:me')).username, 'dora');

      await t.server.app.store.users.update(user.id, { active: false });
      assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth })).status, 401);
      assert.equal((await ddpError(ddp.call('twofold:me'))).error, 'unauthorized');
      // The connection forgot the session: turning the user back on does not bring it back.
      await t.server.app.store.users.update(user.id, { active: true });
      assert.equal((await ddpError(ddp.call('twofold:me'))).error, 'unauthorized');
      assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth })).status, 200);
      ddp.close();
    });

    it('a token is refused with another user\'s id', async () => {
      await t.addUser({ username: 'ivo', password: 'ivo pw' });
      const other = await t.addUser({ username: 'ugo', password: 'ugo pw' });
      const auth = await restLogin(t.url, 'ivo', 'ivo pw');
      assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth: { userId: other.id, authToken: auth.authToken } })).status, 401);
    });
  });
}
