// Issue 14 §4: "remember this device". A sign-in that passed a code and asked for it gets a
// device token; a later password sign-in of the same user from the same browser carrying it
// skips the second factor, and nothing else does. Revoked with the user's credentials, listed
// with the sessions, forgotten one by one or all at once.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadSettings } from '../src/config/settings.ts';
import { resetSecondFactors } from '../src/operations/admin-reset.ts';
import { operationDeps } from '../src/operations/deps.ts';
import { DdpTestClient, ddpError, sha256 } from './helpers/ddp.ts';
import { mailedCode } from './helpers/realtime.ts';
import { twoFactorWorld, type Account, type TwoFactorWorld } from './helpers/rest-2fa.ts';
import { storesUnderTest } from './helpers/stores.ts';

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) remember-device-test';
const DAY = 86_400;

describe('the remember-device settings', () => {
  it('remember a device for 30 days by default, at most 20 per user; 0 days turns it off', () => {
    const d = loadSettings({});
    assert.equal(d.rememberDeviceDays, 30);
    assert.equal(d.rememberDeviceMax, 20);
    assert.equal(loadSettings({ TWOFOLD_REMEMBER_DEVICE_DAYS: '0' }).rememberDeviceDays, 0);
  });
});

for (const store of storesUnderTest) {
  describe(`remember this device (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    const login = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      w.call('POST', '/api/v1/login', { body, headers: { 'user-agent': BROWSER, ...headers } });

    /** Signs in with an emailed code, asking to remember the device: the device token. */
    async function remembered(u: Account, agent = BROWSER): Promise<string> {
      const code = await w.codeFrom(u, () => login({ user: u.username, password: u.password }, { 'user-agent': agent }));
      const res = await login({ user: u.username, password: u.password, code, rememberDevice: true }, { 'user-agent': agent });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(typeof res.body.data.deviceToken, 'string');
      return res.body.data.deviceToken;
    }

    const mailsTo = (u: Account) => w.t.mail.messages.filter((m) => JSON.stringify(m).includes(u.address)).length;

    it('REST: a remembered device signs in with the password alone, and no code is mailed', async () => {
      const u = await w.emailUser();
      const deviceToken = await remembered(u);
      w.tick();
      const mailed = mailsTo(u);
      const res = await login({ user: u.username, password: u.password, deviceToken });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.data.userId, u.id);
      assert.equal(res.body.data.deviceToken, undefined, 'the token is given once, not again');
      assert.equal(mailsTo(u), mailed);
      // The x-2fa-device header does the same.
      const viaHeader = await login({ user: u.username, password: u.password }, { 'x-2fa-device': deviceToken });
      assert.equal(viaHeader.status, 200, JSON.stringify(viaHeader.body));
      // The audit trail says the sign-in skipped its second factor on a remembered device.
      const { events } = await w.t.server.app.store.audit.list({ offset: 0, count: 10, userId: u.id });
      const skipped = events.filter((e) => e.event === 'login-success' && e.details?.secondFactor === 'remembered-device');
      assert.equal(skipped.length, 2);
      assert.ok(events.some((e) => e.event === 'device-remembered'));
      assert.ok(!JSON.stringify(events).includes(deviceToken));
    });

    it('REST: the password is still needed', async () => {
      const u = await w.emailUser();
      const deviceToken = await remembered(u);
      const res = await login({ user: u.username, password: 'not the password', deviceToken });
      assert.equal(res.status, 401);
    });

    it('REST: only the sign-in skips the code; a protected call after it still asks', async () => {
      const u = await w.emailUser();
      const deviceToken = await remembered(u);
      const res = await login({ user: u.username, password: u.password, deviceToken });
      const auth = { userId: res.body.data.userId, authToken: res.body.data.authToken };
      w.tick();
      const call = await w.call('POST', '/api/v1/users.totp.enable', { auth, headers: { 'user-agent': BROWSER } });
      assert.equal(call.status, 400);
      assert.equal(call.body.errorType, 'totp-required');
    });

    it('REST: a wrong, another user\'s, another browser\'s or an expired device token is asked for a code', async () => {
      const u = await w.emailUser();
      const other = await w.emailUser();
      const mine = await remembered(u);
      const theirs = await remembered(other);
      const asked = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => {
        w.tick();
        const res = await login(body, headers);
        assert.equal(res.status, 401, JSON.stringify(res.body));
        assert.equal(res.body.error, 'totp-required');
      };
      await asked({ user: u.username, password: u.password, deviceToken: `${mine.slice(0, -2)}xx` });
      await asked({ user: u.username, password: u.password, deviceToken: theirs });
      await asked({ user: u.username, password: u.password, deviceToken: mine }, { 'user-agent': 'another browser' });
      // Bounded: an oversized token is refused by the schema, not looked up.
      const huge = await login({ user: u.username, password: u.password, deviceToken: 'x'.repeat(10_000) });
      assert.equal(huge.status, 400);
      w.clock.advance(30 * DAY + 1);
      await asked({ user: u.username, password: u.password, deviceToken: mine });
    });

    it('REST: remembering needs a code: a sign-in that asked none gets no device token', async () => {
      const u = await w.plainUser();
      const res = await login({ user: u.username, password: u.password, rememberDevice: true });
      assert.equal(res.status, 200);
      assert.equal(res.body.data.deviceToken, undefined);
    });

    it('REST: remembering again from a browser that shows its old token replaces it', async () => {
      const u = await w.emailUser();
      const old = await remembered(u);
      w.clock.advance(30 * DAY + 1);
      const code = await w.codeFrom(u, () => login({ user: u.username, password: u.password, deviceToken: old }));
      const res = await login({ user: u.username, password: u.password, code, rememberDevice: true, deviceToken: old });
      assert.equal(res.status, 200);
      assert.notEqual(res.body.data.deviceToken, old);
      const devices = await w.t.server.app.store.devices.live(u.id, 0, 10);
      assert.equal(devices.length, 1, 'one device, not two');
    });

    it('REST: changing the password forgets the remembered devices', async () => {
      const u = await w.emailUser();
      const deviceToken = await remembered(u);
      const res = await login({ user: u.username, password: u.password, deviceToken });
      const auth = { userId: res.body.data.userId, authToken: res.body.data.authToken };
      const newPassword = 'a new password 1!';
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { newPassword, currentPassword: sha256(u.password) } } }));
      const changed = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', {
        auth, body: { data: { newPassword, currentPassword: sha256(u.password) } }, headers: { 'x-2fa-code': code, 'x-2fa-method': 'email' },
      });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      w.tick();
      const again = await login({ user: u.username, password: newPassword, deviceToken });
      assert.equal(again.status, 401);
      assert.equal(again.body.error, 'totp-required');
    });

    it('REST: the sessions list shows the devices; forgetting one, then all, makes their sign-ins ask', async () => {
      const u = await w.emailUser();
      const first = await remembered(u);
      const second = await remembered(u, 'Second Browser/1.0');
      const res = await login({ user: u.username, password: u.password, deviceToken: first });
      const auth = { userId: res.body.data.userId, authToken: res.body.data.authToken };
      const list = await w.call('GET', '/api/v1/users.sessions.list', { auth });
      assert.equal(list.status, 200);
      assert.equal(list.body.devices.length, 2);
      const used = list.body.devices.find((d: any) => d.userAgent === BROWSER);
      assert.ok(used.lastUsedAt, 'the device signed in with is marked used');
      assert.equal(used.clientAddress, '127.0.0.1');
      assert.ok(used.createdAt && used.expiresAt);
      assert.ok(!JSON.stringify(list.body).includes(first));

      const forget = await w.call('POST', '/api/v1/users.devices.revoke', { auth, body: { id: used.id } });
      assert.equal(forget.status, 200, JSON.stringify(forget.body));
      w.tick();
      assert.equal((await login({ user: u.username, password: u.password, deviceToken: first })).body.error, 'totp-required');
      const again = await w.call('POST', '/api/v1/users.devices.revoke', { auth, body: { id: used.id } });
      assert.equal(again.status, 400);
      assert.equal(again.body.errorType, 'error-token-not-found');

      const all = await w.call('POST', '/api/v1/users.devices.revokeAll', { auth });
      assert.equal(all.body.revoked, 1);
      w.tick();
      const last = await login({ user: u.username, password: u.password, deviceToken: second }, { 'user-agent': 'Second Browser/1.0' });
      assert.equal(last.body.error, 'totp-required');
      assert.equal((await w.call('GET', '/api/v1/users.sessions.list', { auth })).body.devices.length, 0);
    });

    it('REST: another user cannot forget my device', async () => {
      const u = await w.emailUser();
      const deviceToken = await remembered(u);
      const mine = await login({ user: u.username, password: u.password, deviceToken });
      const auth = { userId: mine.body.data.userId, authToken: mine.body.data.authToken };
      const { id } = (await w.call('GET', '/api/v1/users.sessions.list', { auth })).body.devices[0];
      const stranger = await w.plainUser();
      const sAuth = await w.login(stranger);
      const res = await w.call('POST', '/api/v1/users.devices.revoke', { auth: sAuth, body: { id } });
      assert.equal(res.body.errorType, 'error-token-not-found');
      assert.equal((await login({ user: u.username, password: u.password, deviceToken })).status, 200);
    });

    it('an admin reset forgets the user\'s devices', async () => {
      const u = await w.emailUser();
      await remembered(u);
      const { app } = w.t.server;
      assert.equal((await app.store.devices.live(u.id, w.clock.now(), 10)).length, 1);
      await resetSecondFactors(operationDeps(app), (await app.store.users.byId(u.id))!, { client: undefined, resetBy: 'test' });
      assert.equal((await app.store.devices.live(u.id, w.clock.now(), 10)).length, 0);
    });

    it('DDP: {totp: {login: {…, rememberDevice: true}, code}} gives a device token; a later login with it asks no code', async () => {
      const u = await w.emailUser();
      const headers = { 'user-agent': BROWSER };
      const request = { user: { username: u.username }, password: { digest: sha256(u.password), algorithm: 'sha-256' } };
      const ddp = await DdpTestClient.open(w.t.wsUrl, { headers });
      let deviceToken: string;
      try {
        const code = await mailedCode(w.t, w.clock, u.address, () => ddpError(ddp.call('login', request)));
        const result = await ddp.call('login', { totp: { login: { ...request, rememberDevice: true }, code } });
        deviceToken = result.deviceToken;
        assert.equal(typeof deviceToken, 'string');
        const list = await ddp.call('twofold:listSessions');
        assert.equal(list.devices.length, 1);
      } finally {
        ddp.close();
      }
      const again = await DdpTestClient.open(w.t.wsUrl, { headers });
      try {
        const result = await again.call('login', { ...request, deviceToken });
        assert.equal(result.id, u.id);
        const { id } = (await again.call('twofold:listSessions')).devices[0];
        assert.deepEqual(await again.call('twofold:revokeDevice', { id }), { revoked: 1 });
        w.tick();
        const asked = await ddpError(again.call('login', { ...request, deviceToken }));
        assert.equal(asked.error, 'totp-required');
      } finally {
        again.close();
      }
      // Another user's token does not pass a DDP login either.
      const other = await w.emailUser();
      const theirs = await remembered(other);
      const third = await DdpTestClient.open(w.t.wsUrl, { headers });
      try {
        w.tick();
        const asked = await ddpError(third.call('login', { ...request, deviceToken: theirs }));
        assert.equal(asked.error, 'totp-required');
      } finally {
        third.close();
      }
    });
  });

  describe(`remember this device turned off (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store, { settings: { rememberDeviceDays: 0 } }); });
    after(() => w.t.close());

    it('REST: with TWOFOLD_REMEMBER_DEVICE_DAYS=0 no device token is issued', async () => {
      const u = await w.emailUser();
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password } }));
      const res = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password, code, rememberDevice: true } });
      assert.equal(res.status, 200);
      assert.equal(res.body.data.deviceToken, undefined);
    });
  });

  describe(`remember this device and suspension (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store, { settings: { maxConsecutiveFailures: 2 } }); });
    after(() => w.t.close());

    it('REST: a suspension forgets the devices, so the token no longer signs in', async () => {
      const u = await w.emailUser();
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password }, headers: { 'user-agent': BROWSER } }));
      const ok = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password, code, rememberDevice: true }, headers: { 'user-agent': BROWSER } });
      const deviceToken = ok.body.data.deviceToken;
      assert.equal(typeof deviceToken, 'string');
      for (let i = 0; i < 2; i++) {
        w.tick();
        await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password, code: '000000' }, headers: { 'user-agent': BROWSER } });
      }
      assert.equal((await w.t.server.app.store.devices.live(u.id, w.clock.now(), 10)).length, 0);
      const res = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password, deviceToken }, headers: { 'user-agent': BROWSER } });
      assert.notEqual(res.status, 200);
      assert.equal(res.body.errorType, 'error-2fa-suspended');
    });
  });
}
