// Remembered devices, passkeys and the hook's other replies (switch method, an answer given
// up front, a call's own hook) through the SDK against the real server, on both transports
// and both stores.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { storesUnderTest } from '../../../test/helpers/stores.ts';
import { nextTotp } from '../../../test/helpers/totp.ts';
import { TwofoldClientError, type RestSession, type SessionChange } from '../src/index.ts';
import { mailbox, passkeyHook, recordingHook, sdkWorld, summary, totpHook, type SdkWorld } from './world.ts';

for (const store of storesUnderTest) {
  describe(`SDK: remembered devices, passkeys, method switches (${store})`, () => {
    let w: SdkWorld;
    before(async () => { w = await sdkWorld(store); });
    after(() => w.close());

    it('REST: rememberDevice returns a device token; a login with it is not asked for a code, one without it is', async () => {
      const a = await w.totpUser();
      const first = await w.rest({ onChallenge: totpHook(w, a.secret) }).login(a.username, a.password, { rememberDevice: true });
      assert.equal(typeof first.deviceToken, 'string');

      const hook = recordingHook(totpHook(w, a.secret));
      const again = await w.rest({ onChallenge: hook }).login(a.username, a.password, { deviceToken: first.deviceToken! });
      assert.deepEqual(hook.seen, [], 'the remembered device skips the second factor');
      assert.equal(again.deviceToken, undefined, 'no new token without a second factor');

      await w.rest({ onChallenge: hook }).login(a.username, a.password);
      assert.equal(hook.seen.length, 1, 'another device is asked');
    });

    it('REST: the hook may ask to remember the device in its reply', async () => {
      const a = await w.totpUser();
      const right = totpHook(w, a.secret);
      const login = await w.rest({ onChallenge: async (ctx) => ({ code: await right(ctx) as string, rememberDevice: true }) })
        .login(a.username, a.password);
      assert.equal(typeof login.deviceToken, 'string');
      const devices = await w.rest({ session: login }).get<{ devices: unknown[] }>('users.sessions.list');
      assert.equal(devices.devices.length, 1);
    });

    it('REST: a passkey answers the login (assertion in x-2fa-code, not the body) and a protected call', async () => {
      const a = await w.passkeyUser();
      const hook = recordingHook(passkeyHook(a.key));
      const client = w.rest({ onChallenge: hook });

      await client.login(a.username, a.password);
      const pat = await client.post<{ token: string }>('users.generatePersonalAccessToken', { tokenName: 'passkey' });

      assert.equal(typeof pat.token, 'string');
      assert.deepEqual(summary(hook.seen), [
        { method: 'webauthn', attempt: 1, transport: 'rest', error: 'totp-required', call: '/api/v1/login' },
        { method: 'webauthn', attempt: 1, transport: 'rest', error: 'totp-required', call: '/api/v1/users.generatePersonalAccessToken' },
      ]);
      assert.equal(typeof hook.seen[0]!.details.webauthn?.challenge, 'string');
    });

    it('REST: a refused assertion asks again with the next challenge\'s options', async () => {
      const a = await w.passkeyUser();
      const right = passkeyHook(a.key);
      // An assertion of an old challenge: the server refuses it and sends new options.
      let stale: string | undefined;
      const hook = recordingHook((ctx) => {
        if (ctx.attempt === 1) {
          stale = a.key.assert(ctx.details.webauthn as { challenge: string });
          return { code: a.key.assert({ challenge: 'AAAA' }), method: 'webauthn' };
        }
        return right(ctx);
      });
      await w.rest({ onChallenge: hook }).login(a.username, a.password, { rememberDevice: true });
      assert.deepEqual(hook.seen.map((c) => [c.attempt, c.error]), [[1, 'totp-required'], [2, 'totp-invalid']]);
      assert.equal(typeof stale, 'string');
    });

    it('REST: a reply without a code switches method (email is mailed), and the hook is asked again', async () => {
      const a = await w.totpUser();
      await w.t.server.app.store.users.update(a.id, { email2faEnabled: true });
      const readMail = mailbox(w, a.address);
      const login = await w.rest({ onChallenge: totpHook(w, a.secret) }).login(a.username, a.password);
      w.tick();
      // Lost the phone: ask for an emailed code instead, then type it.
      const hook = recordingHook((ctx) => (ctx.method === 'totp' ? { method: 'email' } : readMail()));
      const r = await w.rest({ session: login, onChallenge: hook }).post<{ token: string }>('users.generatePersonalAccessToken', { tokenName: 'switched' });
      assert.equal(typeof r.token, 'string');
      assert.deepEqual(hook.seen.map((c) => [c.method, c.attempt, c.error]), [['totp', 1, 'totp-required'], ['email', 1, 'totp-required']]);
      assert.equal(hook.seen[1]!.details.codeGenerated, true);
    });

    it('REST: an answer given up front is sent with the first try; a call\'s own hook overrides the client\'s', async () => {
      const a = await w.totpUser();
      const clientHook = recordingHook(totpHook(w, a.secret));
      const client = w.rest({ onChallenge: clientHook });
      await client.login(a.username, a.password);
      clientHook.seen.length = 0;

      await client.request('POST', 'users.generatePersonalAccessToken', { body: { tokenName: 'upfront' }, answer: { code: nextTotp(w.clock, a.secret), method: 'totp' } });
      const own = recordingHook(totpHook(w, a.secret));
      await client.request('POST', 'users.generatePersonalAccessToken', { body: { tokenName: 'own' }, onChallenge: own });

      assert.deepEqual(clientHook.seen, []);
      assert.equal(own.seen.length, 1);
    });

    it('REST and DDP: a login may carry its answer from the start (e.g. a code typed after a lockout ended)', async () => {
      const a = await w.totpUser();
      const hook = recordingHook(() => null);
      await w.rest({ onChallenge: hook }).login(a.username, a.password, { answer: { code: nextTotp(w.clock, a.secret), method: 'totp' } });
      const ddp = await w.ddp({ onChallenge: hook });
      await ddp.loginWithPassword(a.username, a.password, { answer: { code: nextTotp(w.clock, a.secret) } });
      assert.deepEqual(hook.seen, [], 'never challenged');
    });

    it('REST: onSessionChange says why: login, logout, expired', async () => {
      const a = await w.plainUser();
      const changes: [RestSession | null, SessionChange][] = [];
      const client = w.rest({ onSessionChange: (s, why) => changes.push([s, why]) });
      const login = await client.login(a.username, a.password);
      await client.logout();
      client.session = login; // revoked by the logout
      await assert.rejects(client.me(), (e: TwofoldClientError) => e.status === 401);
      assert.deepEqual(changes.map(([s, why]) => [s === null, why]), [[false, 'login'], [true, 'logout'], [false, 'set'], [true, 'expired']]);
    });

    it('DDP: rememberDevice and deviceToken at login; a passkey answers the login and a protected method', async () => {
      const a = await w.passkeyUser();
      const hook = recordingHook(passkeyHook(a.key));
      const ddp = await w.ddp({ onChallenge: hook });
      const first = await ddp.loginWithPassword(a.username, a.password, { rememberDevice: true });
      assert.equal(first.type, 'password');
      assert.equal(typeof first.deviceToken, 'string');
      await ddp.call('personalAccessTokens:generateToken', { tokenName: 'ddp passkey' });
      assert.deepEqual(summary(hook.seen), [
        { method: 'webauthn', attempt: 1, transport: 'ddp', error: 'totp-required', call: 'login' },
        { method: 'webauthn', attempt: 1, transport: 'ddp', error: 'totp-required', call: 'personalAccessTokens:generateToken' },
      ]);

      const quiet = recordingHook(passkeyHook(a.key));
      const other = await w.ddp({ onChallenge: quiet });
      await other.loginWithPassword(a.username, a.password, { deviceToken: first.deviceToken! });
      assert.deepEqual(quiet.seen, [], 'the remembered device skips the passkey');
    });

    it('DDP: a reply without a code is refused by the client (DDP cannot name a method alone)', async () => {
      const a = await w.totpUser();
      const ddp = await w.ddp({ onChallenge: () => ({ method: 'email' }) });
      await assert.rejects(ddp.loginWithPassword(a.username, a.password), (e: TwofoldClientError) => e.code === 'bad-request');
    });
  });
}
