// Issue 14 §5 and §7 over REST and DDP: a user's own sessions (list, sign one out, sign out
// everywhere else, last used to the minute), their own security events, and roles that
// must enrol in a second factor before anything else.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadSettings } from '../src/config/settings.ts';
import { FakeClock } from '../src/core/clock.ts';
import { ddpError, DdpTestClient, sha256 } from './helpers/ddp.ts';
import { rest } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

type Auth = { userId: string; authToken: string };

async function login(t: TestServer, user: string, password: string, agent: string): Promise<Auth> {
  const res = await rest(t.url, 'POST', '/api/v1/login', { body: { user, password }, headers: { 'user-agent': agent } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { userId: res.body.data.userId, authToken: res.body.data.authToken };
}

const get = (t: TestServer, path: string, auth: Auth, agent = 'test') => rest(t.url, 'GET', path, { auth, headers: { 'user-agent': agent } });
const post = (t: TestServer, path: string, auth: Auth, body: unknown = {}) => rest(t.url, 'POST', path, { auth, body });

describe('settings of issue 14', () => {
  it('default: no role must enrol, 100 sessions listed, 50 own events', () => {
    const s = loadSettings({});
    assert.deepEqual(s.requireTwoFactorForRoles, []);
    assert.equal(s.sessionsListMax, 100);
    assert.equal(s.auditMineMax, 50);
  });
  it('TWOFOLD_REQUIRE_2FA_FOR_ROLES takes any role names, and refuses what cannot be one', () => {
    assert.deepEqual(loadSettings({ TWOFOLD_REQUIRE_2FA_FOR_ROLES: 'admin, livechat-agent' }).requireTwoFactorForRoles, ['admin', 'livechat-agent']);
    assert.throws(() => loadSettings({ TWOFOLD_REQUIRE_2FA_FOR_ROLES: 'admin,bad role' }), /TWOFOLD_REQUIRE_2FA_FOR_ROLES: "bad role" is not a role name/);
  });
});

for (const store of storesUnderTest) {
  describe(`the user's own sessions and events (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    before(async () => { t = await startTestServer({ store, clock, settings: { auditMineMax: 5 } }); });
    after(() => t?.close());

    it('lists the sessions with address, agent, created and last used, marks this one, and never shows the token or its hash', async () => {
      await t.addUser({ username: 'sam', password: 'sam password' });
      const laptop = await login(t, 'sam', 'sam password', 'Laptop Browser/1.0');
      clock.advance(120);
      const phone = await login(t, 'sam', 'sam password', 'Phone App/2.0');
      const res = await get(t, '/api/v1/users.sessions.list', phone);
      assert.equal(res.status, 200);
      const { sessions, devices } = res.body;
      assert.deepEqual(devices, []);
      assert.equal(sessions.length, 2);
      const [first, second] = sessions;
      assert.deepEqual({ ...first, id: undefined }, {
        id: undefined, current: true, clientAddress: '127.0.0.1', userAgent: 'Phone App/2.0',
        createdAt: new Date(clock.now()).toISOString(), lastUsedAt: new Date(clock.now()).toISOString(),
      });
      assert.equal(second.current, false);
      assert.equal(second.userAgent, 'Laptop Browser/1.0');
      assert.equal(second.lastUsedAt, null, 'the laptop has made no call since signing in');
      for (const s of sessions) assert.match(s.id, /^[0-9a-f]{16}$/);
      const text = JSON.stringify(res.body);
      assert.ok(!text.includes(laptop.authToken) && !text.includes(phone.authToken));
      const hash = t.server.app.keys.hashToken(laptop.authToken);
      assert.ok(!text.includes(hash.slice(0, 16)), 'the id is not a piece of the hash');
    });

    it('"last used" moves at most once a minute', async () => {
      await t.addUser({ username: 'lu', password: 'lu password' });
      const auth = await login(t, 'lu', 'lu password', 'A');
      const lastUsed = async () => (await get(t, '/api/v1/users.sessions.list', auth)).body.sessions[0].lastUsedAt;
      const start = clock.now();
      assert.equal(await lastUsed(), new Date(start).toISOString());
      clock.advance(59);
      assert.equal(await lastUsed(), new Date(start).toISOString(), 'within the minute: not written again');
      clock.advance(1);
      assert.equal(await lastUsed(), new Date(start + 60_000).toISOString());
    });

    it('signs out one session by id; the token stops working, the others go on', async () => {
      await t.addUser({ username: 'rv', password: 'rv password' });
      const a = await login(t, 'rv', 'rv password', 'A');
      const b = await login(t, 'rv', 'rv password', 'B');
      const list = (await get(t, '/api/v1/users.sessions.list', a)).body.sessions;
      const other = list.find((s: { userAgent: string }) => s.userAgent === 'B');
      const res = await post(t, '/api/v1/users.sessions.revoke', a, { id: other.id });
      assert.equal(res.status, 200);
      assert.deepEqual({ revoked: res.body.revoked, current: res.body.current }, { revoked: 1, current: false });
      assert.equal((await get(t, '/api/v1/me', b)).status, 401);
      assert.equal((await get(t, '/api/v1/me', a)).status, 200);
      const again = await post(t, '/api/v1/users.sessions.revoke', a, { id: other.id });
      assert.equal(again.body.errorType, 'error-token-not-found');
      const bad = await post(t, '/api/v1/users.sessions.revoke', a, { id: 'not-an-id' });
      assert.equal(bad.status, 400);
    });

    it('cannot sign out another user\'s session', async () => {
      await t.addUser({ username: 'own1', password: 'own1 password' });
      await t.addUser({ username: 'own2', password: 'own2 password' });
      const mine = await login(t, 'own1', 'own1 password', 'A');
      const theirs = await login(t, 'own2', 'own2 password', 'B');
      const theirId = (await get(t, '/api/v1/users.sessions.list', theirs)).body.sessions[0].id;
      const res = await post(t, '/api/v1/users.sessions.revoke', mine, { id: theirId });
      assert.equal(res.body.errorType, 'error-token-not-found');
      assert.equal((await get(t, '/api/v1/me', theirs)).status, 200);
    });

    it('signs out everywhere else without a second factor; this session and personal access tokens stay', async () => {
      const user = await t.addUser({ username: 'ev', password: 'ev password' });
      const keep = await login(t, 'ev', 'ev password', 'Keep');
      const gone = [await login(t, 'ev', 'ev password', 'X'), await login(t, 'ev', 'ev password', 'Y')];
      const pat = 'personal-token-of-ev';
      await t.server.app.store.tokens.insert({
        tokenHash: t.server.app.keys.hashToken(pat), userId: user.id, kind: 'pat', name: 'script', bypass2fa: false, createdAt: clock.now(), expiresAt: null,
      });
      const res = await post(t, '/api/v1/users.sessions.revokeOthers', keep);
      assert.equal(res.status, 200);
      assert.equal(res.body.revoked, 2);
      for (const g of gone) assert.equal((await get(t, '/api/v1/me', g)).status, 401);
      assert.equal((await get(t, '/api/v1/me', keep)).status, 200);
      assert.equal((await get(t, '/api/v1/me', { userId: user.id, authToken: pat })).status, 200);
      const sessions = (await get(t, '/api/v1/users.sessions.list', keep)).body.sessions;
      assert.deepEqual(sessions.map((s: { userAgent: string }) => s.userAgent), ['Keep'], 'personal access tokens are not sessions');
    });

    it('shows the user their own security events, newest first and bounded, never another user\'s', async () => {
      await t.addUser({ username: 'au', password: 'au password' });
      await t.addUser({ username: 'other', password: 'other password' });
      const failed = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'au', password: 'wrong' } });
      assert.equal(failed.status, 401);
      await login(t, 'other', 'other password', 'O');
      const auth = await login(t, 'au', 'au password', 'A');
      await login(t, 'au', 'au password', 'B');
      assert.equal((await post(t, '/api/v1/users.sessions.revokeOthers', auth)).status, 200);
      const res = await get(t, '/api/v1/users.audit.mine', auth);
      assert.equal(res.status, 200);
      const events = res.body.events as { event: string; clientAddress: string; details: Record<string, unknown> }[];
      assert.deepEqual(events.map((e) => e.event), ['session-revoked', 'login-success', 'login-success', 'login-failure']);
      assert.equal(events[0]!.clientAddress, '127.0.0.1');
      for (let i = 0; i < 4; i++) await login(t, 'au', 'au password', `more${i}`);
      assert.equal((await get(t, '/api/v1/users.audit.mine', auth)).body.events.length, 5, 'TWOFOLD_AUDIT_MINE_MAX');
    });

    it('over DDP: the list marks this connection\'s session, and signing out the others works', async () => {
      await t.addUser({ username: 'dd', password: 'dd password' });
      const other = await login(t, 'dd', 'dd password', 'Other');
      const ddp = await DdpTestClient.open(t.wsUrl, { headers: { 'user-agent': 'DDP Client/3' } });
      await ddp.loginWithPassword('dd', 'dd password');
      const { sessions } = await ddp.call('twofold:listSessions');
      const current = sessions.find((s: { current: boolean }) => s.current);
      assert.equal(current.userAgent, 'DDP Client/3');
      assert.equal(sessions.length, 2);
      assert.deepEqual(await ddp.call('twofold:revokeOtherSessions'), { revoked: 1 });
      assert.equal((await get(t, '/api/v1/me', other)).status, 401);
      assert.equal((await ddp.call('twofold:myAudit')).events[0].event, 'session-revoked');
      assert.deepEqual(await ddp.call('twofold:revokeSession', { id: current.id }), { revoked: 1, current: true });
      assert.equal((await ddpError(ddp.call('twofold:listSessions'))).error, 'not-authorized', 'signing out this session logs the connection out');
      ddp.close();
    });
  });

  describe(`roles that must enrol in a second factor first (${store})`, () => {
    let t: TestServer;
    before(async () => { t = await startTestServer({ store, settings: { requireTwoFactorForRoles: ['admin'] } }); });
    after(() => t?.close());

    it('over REST: an admin with no second factor may only see the account and enrol, then everything works', async () => {
      await t.addUser({ username: 'boss', password: 'boss password', roles: ['user', 'admin'] });
      const auth = await login(t, 'boss', 'boss password', 'A');
      const blocked = await get(t, '/api/v1/users.getPersonalAccessTokens', auth);
      assert.equal(blocked.status, 403);
      assert.equal(blocked.body.errorType, 'error-2fa-enrolment-required');
      assert.equal((await get(t, '/api/v1/users.list', auth)).body.errorType, 'error-2fa-enrolment-required');
      assert.equal((await get(t, '/api/v1/users.audit.mine', auth)).body.errorType, 'error-2fa-enrolment-required');
      assert.equal((await get(t, '/api/v1/me', auth)).status, 200);
      assert.equal((await get(t, '/api/v1/users.sessions.list', auth)).status, 200);
      assert.deepEqual((await get(t, '/api/v1/users.2fa.enrolment', auth)).body, { methods: [], required: true, mustEnrolFirst: true, success: true });

      assert.equal((await post(t, '/api/v1/users.2fa.enableEmail', auth)).status, 200);
      assert.equal((await get(t, '/api/v1/users.getPersonalAccessTokens', auth)).status, 200);
      assert.deepEqual((await get(t, '/api/v1/users.2fa.enrolment', auth)).body, { methods: ['email'], required: true, mustEnrolFirst: false, success: true });
    });

    it('users without the role are not held back', async () => {
      await t.addUser({ username: 'plain', password: 'plain password' });
      const auth = await login(t, 'plain', 'plain password', 'A');
      assert.equal((await get(t, '/api/v1/users.getPersonalAccessTokens', auth)).status, 200);
      assert.equal((await get(t, '/api/v1/users.2fa.enrolment', auth)).body.required, false);
    });

    it('over DDP: the same refusal, and the authenticator set-up stays open', async () => {
      await t.addUser({ username: 'boss2', password: 'boss2 password', roles: ['admin'] });
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.loginWithPassword('boss2', 'boss2 password');
      const e = await ddpError(ddp.call('personalAccessTokens:generateToken', { tokenName: 'x' }, { twoFactorCode: sha256('boss2 password'), twoFactorMethod: 'password' }));
      assert.equal(e.error, 'error-2fa-enrolment-required');
      const wrapped = await ddpError(ddp.call('callWithTwoFactorRequired', { ddpMethod: 'personalAccessTokens:generateToken', method: 'password', params: [{ tokenName: 'x' }], code: sha256('boss2 password') }));
      assert.equal(wrapped.error, 'error-2fa-enrolment-required');
      const enrolment = await ddp.call('2fa:enable', { twoFactorCode: sha256('boss2 password'), twoFactorMethod: 'password' });
      assert.match(enrolment.secret, /^[A-Z2-7]+$/);
      assert.equal((await ddp.call('twofold:me')).username, 'boss2');
      ddp.close();
    });
  });
}
