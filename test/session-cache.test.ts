// Sessions are kept in memory (src/store/session-cache.ts), yet every change to one takes
// effect on the very next call: each test first makes a call that puts the session in memory,
// then changes it, then expects the next call to see the change, over REST and on a DDP
// connection logged in before the change.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import { runCli } from './helpers/cli.ts';
import { ddpError, DdpTestClient, sha256 } from './helpers/ddp.ts';
import { withDirectApp } from './helpers/direct.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

type Auth = { userId: string; authToken: string };

for (const store of storesUnderTest) {
  describe(`a session kept in memory still sees every change at the next call (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock(Date.now());
    before(async () => { t = await startTestServer({ store, clock, settings: { rememberFor: 600 } }); });
    after(() => t.close());

    const me = (auth: Auth) => rest(t.url, 'GET', '/api/v1/me', { auth });
    const rename = (auth: Auth, name: string, code?: string) => rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', {
      auth, body: { data: { name } }, headers: code ? { 'x-2fa-method': 'password', 'x-2fa-code': code } : {},
    });
    /** A user logged in over REST and, with the same token, on a DDP connection; both have made a call. */
    async function loggedIn(username: string): Promise<{ auth: Auth; ddp: DdpTestClient }> {
      await t.addUser({ username, password: `${username} pw` });
      // Past a new account's grace period (TWOFOLD_REMEMBER_FOR), where protected calls would not ask.
      clock.advance(601);
      const auth = await restLogin(t.url, username, `${username} pw`);
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.call('login', { resume: auth.authToken });
      assert.equal((await me(auth)).status, 200);
      assert.equal((await ddp.call('twofold:me')).username, username);
      assert.ok(t.server.app.store.sessions.cache!.size > 0, 'the session is in memory');
      return { auth, ddp };
    }
    async function refusedEverywhere(auth: Auth, ddp: DdpTestClient) {
      assert.equal((await me(auth)).status, 401);
      assert.equal((await ddpError(ddp.call('twofold:me'))).error, 'unauthorized');
      ddp.close();
    }

    it('a token logged out over REST is refused at once, and so is the DDP connection it logged in', async () => {
      const { auth, ddp } = await loggedIn('lou');
      assert.equal((await rest(t.url, 'POST', '/api/v1/logout', { auth })).status, 200);
      await refusedEverywhere(auth, ddp);
    });

    it('a session revoked from the session list is refused at once', async () => {
      const { auth, ddp } = await loggedIn('ria');
      const other = await restLogin(t.url, 'ria', 'ria pw');
      assert.equal((await rest(t.url, 'POST', '/api/v1/users.sessions.revokeOthers', { auth: other })).status, 200);
      await refusedEverywhere(auth, ddp);
      assert.equal((await me(other)).status, 200);
    });

    it('a deactivated user is refused at once', async () => {
      const { auth, ddp } = await loggedIn('dee');
      await t.server.app.store.users.update(auth.userId, { active: false });
      await refusedEverywhere(auth, ddp);
    });

    it('a removed personal access token is refused at once', async () => {
      const { auth } = await loggedIn('pat');
      const always = { 'x-2fa-method': 'password', 'x-2fa-code': sha256('pat pw') };
      const made = await rest(t.url, 'POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'bot', bypassTwoFactor: false }, headers: always });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const pat = { userId: auth.userId, authToken: made.body.token };
      assert.equal((await me(pat)).status, 200);
      const patDdp = await DdpTestClient.open(t.wsUrl);
      await patDdp.call('login', { resume: pat.authToken });
      assert.equal((await patDdp.call('twofold:me')).username, 'pat');
      const removed = await rest(t.url, 'POST', '/api/v1/users.removePersonalAccessToken', { auth, body: { tokenName: 'bot' }, headers: always });
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      await refusedEverywhere(pat, patDdp);
      assert.equal((await me(auth)).status, 200);
    });

    it('a second factor switched on is asked for at the next call; a success is remembered at the next call', async () => {
      const { auth, ddp } = await loggedIn('sue');
      assert.equal((await rename(auth, 'Sue')).body.details.method, 'password');
      assert.equal((await ddpError(ddp.call('saveUserProfile', { realname: 'Sue' }))).details?.method, 'password');
      // Email codes on: the same token is now asked for an emailed code, not the password.
      await t.server.app.store.users.update(auth.userId, { email2faEnabled: true });
      const asked = await t.mail.nextCode('sue@example.com', async () => {
        const r = await rename(auth, 'Sue');
        assert.equal(r.body.errorType, 'totp-required');
        assert.equal(r.body.details.method, 'email');
      });
      // The DDP connection logged in before the change is asked for the new method too.
      assert.equal((await ddpError(ddp.call('saveUserProfile', { realname: 'Sue' }))).details?.method, 'email');
      const confirmed = await rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', {
        auth, body: { data: { name: 'Sue A' } }, headers: { 'x-2fa-method': 'email', 'x-2fa-code': asked },
      });
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      // The success is written to the token (twofa_until): the next call passes without a code.
      assert.equal((await rename(auth, 'Sue B')).status, 200);
      ddp.close();
    });

    it('a reset made by the `twofold` command (another connection to the store) is seen at the next call', async () => {
      const { auth, ddp } = await loggedIn('cli');
      const env: Record<string, string> = { TWOFOLD_DATA_DIR: t.dataDir };
      if (t.server.app.settings.databaseUrl) env.DATABASE_URL = t.server.app.settings.databaseUrl;
      const run = await runCli(['user', 'reset-2fa', 'cli'], env);
      assert.equal(run.code, 0, run.stderr);
      await refusedEverywhere(auth, ddp);
    });

    it('a deactivation made through another opened store is seen at the next call', async () => {
      const { auth, ddp } = await loggedIn('two');
      await withDirectApp({ dataDir: t.dataDir, databaseUrl: t.server.app.settings.databaseUrl }, async (other) => {
        await other.store.users.update(auth.userId, { active: false });
      });
      await refusedEverywhere(auth, ddp);
    });

    it('an expired token is refused even while its session is in memory', async () => {
      const { auth, ddp } = await loggedIn('exp');
      clock.advance(t.server.app.settings.loginTokenTtl + 1);
      await refusedEverywhere(auth, ddp);
    });
  });
}
