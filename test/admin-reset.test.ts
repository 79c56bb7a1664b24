// An admin resets a user's second factors (lost phone and lost backup codes): over REST
// (`POST /api/v1/users.2fa.reset`) and with `twofold user reset-2fa <username>`.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from './helpers/cli.ts';
import { sha256 } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

type Auth = { userId: string; authToken: string };

for (const store of storesUnderTest) {
  describe(`resetting a user's second factors (${store})`, () => {
    let t: TestServer;
    let admin: Auth;
    const adminFactor = { 'x-2fa-method': 'password', 'x-2fa-code': sha256('root pw') };
    before(async () => {
      t = await startTestServer({ store });
      await t.addUser({ username: 'root', password: 'root pw', roles: ['user', 'admin'] });
      admin = await restLogin(t.url, 'root', 'root pw');
    });
    after(() => t.close());

    /**
     * A user with two sessions and a personal token, then (as after a lost phone) an
     * authenticator app, backup codes, email codes and a lockout's worth of failures.
     */
    async function lockedOut(username: string) {
      const user = await t.addUser({ username, password: `${username} pw` });
      const sessions = [await restLogin(t.url, username, `${username} pw`), await restLogin(t.url, username, `${username} pw`)];
      const pat = await rest(t.url, 'POST', '/api/v1/users.generatePersonalAccessToken', {
        auth: sessions[0], headers: { 'x-2fa-method': 'password', 'x-2fa-code': sha256(`${username} pw`) }, body: { tokenName: 'bot' },
      });
      assert.equal(pat.status, 200, JSON.stringify(pat.body));
      const patAuth = { userId: user.id, authToken: pat.body.token as string };
      const { app } = t.server;
      await app.store.users.update(user.id, { totpEnabled: true, totpSecret: app.keys.encrypt('JBSWY3DPEHPK3PXP', app.random), email2faEnabled: true });
      await app.store.twoFactor.replaceBackupCodes(user.id, ['h1', 'h2']);
      for (let i = 0; i < app.settings.failureLimit; i++) await app.store.twoFactor.recordFailure(user.id, 'totp', app.clock.now(), `${username}-f${i}`);
      const asked = await rest(t.url, 'POST', '/api/v1/login', { body: { user: username, password: `${username} pw`, code: '123456' } });
      assert.equal(asked.body.error, 'totp-max-attempts', 'locked out before the reset');
      return { user, tokens: [...sessions, patAuth] };
    }

    /** What the user sees afterwards: every old token is dead, the password alone logs in. */
    async function assertReset(username: string, userId: string, tokens: Auth[]) {
      for (const auth of tokens) assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth })).status, 401);
      const back = await rest(t.url, 'POST', '/api/v1/login', { body: { user: username, password: `${username} pw` } });
      assert.equal(back.status, 200, JSON.stringify(back.body));
      assert.deepEqual(back.body.data.me.services, { totp: { enabled: false }, email2fa: { enabled: false } });
      const { store: s } = t.server.app;
      const row = (await s.users.byId(userId))!;
      assert.equal(row.totpSecret, null);
      assert.equal(row.totpPendingSecret, null);
      assert.equal(await s.twoFactor.countBackupCodes(userId), 0);
      assert.equal(await s.twoFactor.countFailures(userId, 0), 0, 'the failure count starts again');
    }

    it('POST /api/v1/users.2fa.reset always asks the admin, then turns every factor off and revokes every token', async () => {
      const { user, tokens } = await lockedOut('mia');
      const asked = await rest(t.url, 'POST', '/api/v1/users.2fa.reset', { auth: admin, body: { username: 'mia' } });
      assert.equal(asked.status, 400);
      assert.equal(asked.body.errorType, 'totp-required');

      const done = await rest(t.url, 'POST', '/api/v1/users.2fa.reset', { auth: admin, headers: adminFactor, body: { username: 'mia' } });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.deepEqual(done.body, { userId: user.id, totp: true, email: true, loginTokens: 2, personalTokens: 1, passkeys: 0, success: true });
      await assertReset('mia', user.id, tokens);
      assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth: admin })).status, 200, 'the admin stays logged in');

      const trail = await rest(t.url, 'GET', `/api/v1/audit.2fa?userId=${user.id}`, { auth: admin });
      const event = trail.body.events.find((e: { event: string }) => e.event === '2fa-reset');
      assert.ok(event, JSON.stringify(trail.body.events));
      assert.equal(event.transport, 'rest');
      assert.deepEqual(event.details, { resetBy: admin.userId, totp: true, email: true, loginTokens: 2, personalTokens: 1, passkeys: 0 });
    });

    it('users.2fa.reset: non-admins refused, unknown or missing user reported', async () => {
      const plain = await t.addUser({ username: 'ned', password: 'ned pw' });
      const ned = await restLogin(t.url, 'ned', 'ned pw');
      const refused = await rest(t.url, 'POST', '/api/v1/users.2fa.reset', { auth: ned, headers: { 'x-2fa-method': 'password', 'x-2fa-code': sha256('ned pw') }, body: { userId: plain.id } });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.errorType, 'error-not-allowed');
      const unknown = await rest(t.url, 'POST', '/api/v1/users.2fa.reset', { auth: admin, headers: adminFactor, body: { username: 'nobody' } });
      assert.equal(unknown.body.errorType, 'error-invalid-user');
      const unknownId = await rest(t.url, 'POST', '/api/v1/users.2fa.reset', { auth: admin, headers: adminFactor, body: { userId: 'no-such-id' } });
      assert.equal(unknownId.body.errorType, 'error-invalid-user-id');
      const missing = await rest(t.url, 'POST', '/api/v1/users.2fa.reset', { auth: admin, headers: adminFactor, body: {} });
      assert.equal(missing.body.errorType, 'error-parameter-required');
    });

    it('`twofold user reset-2fa <username>` does the same from the command line', async () => {
      const { user, tokens } = await lockedOut('ola');
      const env: Record<string, string> = { TWOFOLD_DATA_DIR: t.dataDir };
      if (t.server.app.settings.databaseUrl) env.DATABASE_URL = t.server.app.settings.databaseUrl;
      const out = await runCli(['user', 'reset-2fa', 'ola'], env);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, [
        'reset the second factors of ola: authenticator app turned off, email codes turned off, no passkeys',
        'revoked 2 login tokens and 1 personal access token; ola now logs in with the password alone',
        '',
      ].join('\n'));
      await assertReset('ola', user.id, tokens);
      const trail = await runCli(['audit', '--user', 'ola', '--limit', '2'], env);
      assert.match(trail.stdout, /2fa-reset\s+ola\s+-\s+cli .*resetBy=cli totp=true email=true loginTokens=2 personalTokens=1 passkeys=0/);

      const unknown = await runCli(['user', 'reset-2fa', 'nobody'], env);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no user named nobody/);
      const noName = await runCli(['user', 'reset-2fa'], env);
      assert.equal(noName.code, 2);
      assert.match(noName.stderr, /needs exactly one <username>[\s\S]*usage: twofold user reset-2fa <username>/);
    });
  });
}
