import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ddpError, DdpTestClient, sha256 } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

for (const store of storesUnderTest) {
  describe(`accounts and sessions (${store})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store });
      await t.addUser({ username: 'alice', password: 'alice pw', email: 'alice@example.com' });
      await t.addUser({ username: 'root', password: 'root pw', roles: ['user', 'admin'] });
    });
    after(() => t.close());

    it('GET /api/info answers with the version', async () => {
      const res = await rest(t.url, 'GET', '/api/info');
      assert.equal(res.status, 200);
      assert.equal(res.body.success, true);
      assert.match(res.body.version, /^\d+\.\d+\.\d+/);
      // The pages word the code lifetime from the server's setting.
      assert.equal(res.body.emailCodeTtl, 600);
    });

    it('logs in over REST with every body form, and /me shows the user without secrets', async () => {
      const forms = [
        { user: 'alice', password: 'alice pw' },
        { user: 'alice@example.com', password: 'alice pw' },
        { username: 'alice', password: 'alice pw' },
        { email: 'ALICE@example.com', password: 'alice pw' },
        { user: 'alice', password: { hashed: sha256('alice pw') } },
        { user: 'alice', password: { digest: sha256('alice pw'), algorithm: 'sha-256' } },
      ];
      for (const body of forms) {
        const res = await rest(t.url, 'POST', '/api/v1/login', { body });
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.equal(res.body.status, 'success');
        assert.equal(res.body.data.me.username, 'alice');
        assert.equal(typeof res.body.data.authToken, 'string');
      }
      const auth = await restLogin(t.url, 'alice', 'alice pw');
      const me = await rest(t.url, 'GET', '/api/v1/me', { auth });
      assert.equal(me.status, 200);
      assert.equal(me.body.success, true);
      assert.equal(me.body._id, auth.userId);
      assert.deepEqual(me.body.emails, [{ address: 'alice@example.com', verified: true }]);
      assert.deepEqual(me.body.services, { totp: { enabled: false }, email2fa: { enabled: false } });
      assert.doesNotMatch(JSON.stringify(me.body), /argon2|hash|secret/i);
    });

    it('resume login with a token works and logout revokes it', async () => {
      const auth = await restLogin(t.url, 'alice', 'alice pw');
      const resumed = await rest(t.url, 'POST', '/api/v1/login', { body: { resume: auth.authToken } });
      assert.equal(resumed.status, 200);
      assert.equal(resumed.body.data.userId, auth.userId);
      const out = await rest(t.url, 'POST', '/api/v1/logout', { auth });
      assert.deepEqual(out.body, { status: 'success', data: { message: "You've been logged out!" } });
      assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth })).status, 401);
      const again = await restLogin(t.url, 'alice', 'alice pw');
      assert.equal((await rest(t.url, 'GET', '/api/v1/logout', { auth: again })).status, 200);
    });

    it('wrong password and unknown user get the same 401', async () => {
      const wrong = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'alice', password: 'nope' } });
      const unknown = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'nobody', password: 'nope' } });
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.body, unknown.body);
      assert.equal(wrong.body.error, 'Unauthorized');
    });

    it('tokens are stored hashed', async () => {
      const auth = await restLogin(t.url, 'alice', 'alice pw');
      const rows = await t.server.app.store.db.selectFrom('login_tokens').select('token_hash').execute();
      assert.ok(rows.length > 0);
      assert.ok(rows.every((r) => r.token_hash !== auth.authToken));
    });

    it('logs in over DDP with a digest, a plain password and a resume token; logout ends it', async () => {
      const ddp = await DdpTestClient.open(t.wsUrl);
      const byDigest = await ddp.loginWithPassword('alice', 'alice pw');
      assert.equal(byDigest.type, 'password');
      assert.equal(typeof byDigest.tokenExpires.$date, 'number');
      const me = await ddp.call('twofold:me');
      assert.equal(me.username, 'alice');
      const plain = await ddp.call('login', { user: { email: 'alice@example.com' }, password: 'alice pw' });
      assert.equal(plain.id, byDigest.id);
      const resumed = await ddp.call('login', { resume: byDigest.token });
      assert.equal(resumed.type, 'resume');
      const logoutFrame = await ddp.callRaw('logout');
      assert.ok(!('error' in logoutFrame) && !('result' in logoutFrame), 'void result has neither error nor result');
      const err = await ddpError(ddp.call('twofold:me'));
      assert.equal(err.error, 'unauthorized');
      const dead = await ddpError(ddp.call('login', { resume: byDigest.token }));
      assert.equal(dead.error, 403);
      ddp.close();
    });
  });
}

describe('login tokens expire', () => {
  it('a token past TWOFOLD_LOGIN_TOKEN_TTL no longer authenticates on either transport', async () => {
    const { FakeClock } = await import('../src/core/clock.ts');
    const clock = new FakeClock();
    const t = await startTestServer({ clock, settings: { loginTokenTtl: 3600 } });
    try {
      await t.addUser({ username: 'tess', password: 'tess pw' });
      const auth = await restLogin(t.url, 'tess', 'tess pw');
      clock.advance(3599);
      assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth })).status, 200);
      clock.advance(2);
      assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth })).status, 401);
      const ddp = await DdpTestClient.open(t.wsUrl);
      assert.equal((await ddpError(ddp.call('login', { resume: auth.authToken }))).error, 403);
      ddp.close();
    } finally {
      await t.close();
    }
  });
});
