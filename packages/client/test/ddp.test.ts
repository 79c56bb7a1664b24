// The DDP client against the real server: the same hook answers `totp-required` at login
// (retried as `{totp: {login, code}}`) and on protected methods (retried with the trailing
// `{twoFactorCode, twoFactorMethod}`), on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { storesUnderTest } from '../../../test/helpers/stores.ts';
import { wrongTotp } from '../../../test/helpers/totp.ts';
import { DdpClient, RateLimitError, sha256Hex, socketUrl, TwoFactorLockedError, TwoFactorRequiredError, TwofoldClientError } from '../src/index.ts';
import { mailbox, recordingHook, sdkWorld, summary, totpHook, type SdkWorld } from './world.ts';

describe('socketUrl', () => {
  it('turns the server\'s address into its DDP WebSocket address', () => {
    assert.equal(socketUrl('http://127.0.0.1:3000'), 'ws://127.0.0.1:3000/websocket');
    assert.equal(socketUrl('https://chat.example.com/'), 'wss://chat.example.com/websocket');
    assert.equal(socketUrl('wss://chat.example.com/websocket'), 'wss://chat.example.com/websocket');
  });
});

for (const store of storesUnderTest) {
  describe(`DDP client (${store})`, () => {
    let w: SdkWorld;
    before(async () => { w = await sdkWorld(store); });
    after(() => w.close());

    it('logs in with email codes read from the mail, then resumes on a new connection and answers a protected method', async () => {
      const a = await w.emailUser();
      const readMail = mailbox(w, a.address);
      const hook = recordingHook(() => readMail());
      const ddp = await w.ddp({ onChallenge: hook });

      const login = await ddp.loginWithPassword(a.username, a.password);

      assert.equal(login.id, a.id);
      assert.equal(login.type, 'password');
      assert.ok(login.tokenExpires instanceof Date && login.tokenExpires.getTime() > w.clock.now(), 'tokenExpires is decoded from EJSON');
      assert.deepEqual(summary(hook.seen), [{ method: 'email', attempt: 1, transport: 'ddp', error: 'totp-required', call: 'login' }]);

      const other = await w.ddp({ onChallenge: hook });
      const resumed = await other.resume(login.token);
      assert.equal(resumed.type, 'resume');
      assert.equal(other.userId, a.id);
      assert.equal(hook.seen.length, 1, 'a resume login is never challenged');

      const token = await other.call<string>('personalAccessTokens:generateToken', { tokenName: 'ddp' });
      assert.equal(typeof token, 'string');
      assert.deepEqual(summary(hook.seen.slice(1)), [
        { method: 'email', attempt: 1, transport: 'ddp', error: 'totp-required', call: 'personalAccessTokens:generateToken' },
      ]);
      const me = await other.call<{ username: string }>('twofold:me');
      assert.equal(me.username, a.username);
    });

    it('answers a TOTP user\'s login and protected method, a wrong code first (attempt 2, totp-invalid)', async () => {
      const a = await w.totpUser();
      const right = totpHook(w, a.secret);
      const hook = recordingHook((ctx) => (ctx.attempt === 1 ? wrongTotp(a.secret, w.clock.now()) : right(ctx)));
      const ddp = await w.ddp({ onChallenge: hook });

      await ddp.loginWithPassword(a.username, a.password);
      const token = await ddp.call<string>('personalAccessTokens:generateToken', { tokenName: 'totp' });

      assert.equal(typeof token, 'string');
      assert.deepEqual(hook.seen.map((c) => [c.call, c.attempt, c.error, c.method]), [
        ['login', 1, 'totp-required', 'totp'],
        ['login', 2, 'totp-invalid', 'totp'],
        ['personalAccessTokens:generateToken', 1, 'totp-required', 'totp'],
        ['personalAccessTokens:generateToken', 2, 'totp-invalid', 'totp'],
      ]);
    });

    it('call("login", request) goes through the hook as loginWithPassword does', async () => {
      const a = await w.totpUser();
      const hook = recordingHook(totpHook(w, a.secret));
      const ddp = await w.ddp({ onChallenge: hook });

      const r = await ddp.call<{ id: string }>('login', { user: { username: a.username }, password: { digest: await sha256Hex(a.password), algorithm: 'sha-256' } });

      assert.equal(r.id, a.id);
      assert.equal(ddp.userId, a.id);
      assert.deepEqual(hook.seen.map((c) => c.call), ['login']);
    });

    it('a hook that gives up rejects with TwoFactorRequiredError; without a hook too', async () => {
      const a = await w.emailUser();
      const ddp = await w.ddp({ onChallenge: () => null });
      const e = await ddp.loginWithPassword(a.username, a.password).then(() => assert.fail('logged in'), (x: unknown) => x);
      assert.ok(e instanceof TwoFactorRequiredError);
      assert.equal(e.code, 'totp-required');
      assert.equal(e.transport, 'ddp');
      assert.equal(e.challenge.method, 'email');
      assert.equal(ddp.userId, null);

      const p = await w.plainUser();
      const bare = await w.ddp();
      await bare.loginWithPassword(p.username, p.password);
      const asked = await bare.call('personalAccessTokens:generateToken', { tokenName: 'x' }).then(() => assert.fail('created'), (x: unknown) => x);
      assert.ok(asked instanceof TwoFactorRequiredError);
      assert.equal(asked.challenge.method, 'password');
    });

    it('codes refused maxAttempts times end the call; the server\'s totp-max-attempts is a TwoFactorLockedError', async () => {
      const a = await w.totpUser();
      const wrong = recordingHook(() => wrongTotp(a.secret, w.clock.now()));
      const ddp = await w.ddp({ onChallenge: wrong, maxAttempts: 1 });
      const e = await ddp.loginWithPassword(a.username, a.password).then(() => assert.fail('logged in'), (x: unknown) => x);
      assert.ok(e instanceof TwoFactorRequiredError);
      assert.equal(e.exhausted, true);
      assert.equal(e.code, 'totp-invalid');
      assert.equal(wrong.seen.length, 1);

      const limit = w.t.server.app.settings.failureLimit;
      const stubborn = await w.ddp({ onChallenge: () => wrongTotp(a.secret, w.clock.now()), maxAttempts: limit + 5 });
      const locked = await stubborn.loginWithPassword(a.username, a.password).then(() => assert.fail('logged in'), (x: unknown) => x);
      assert.ok(locked instanceof TwoFactorLockedError);
      assert.equal(locked.code, 'totp-max-attempts');
    });

    it('"send again" inside the hook mails a new code that logs in; another request at once is a RateLimitError', async () => {
      const a = await w.emailUser();
      const readMail = mailbox(w, a.address);
      const ddp: DdpClient = await w.ddp({
        async onChallenge({ details }) {
          await readMail();
          assert.deepEqual(await ddp.sendEmailCode(details.emailOrUsername!), [a.address.replace(/^(.).*(.)@/, '$1•••$2@')]);
          return readMail();
        },
      });
      await ddp.loginWithPassword(a.username, a.password);
      assert.equal(ddp.userId, a.id);

      const e = await ddp.sendEmailCode(a.username).then(() => assert.fail('sent'), (x: unknown) => x);
      assert.ok(e instanceof RateLimitError);
      assert.equal(e.code, 'error-too-many-requests');
      assert.ok(e.retryAfter !== undefined && e.retryAfter > 0 && e.retryAfter <= 60, `retryAfter ${e.retryAfter}`);
    });

    it('logs in with an email address as the login name, and logs out', async () => {
      const a = await w.totpUser();
      const ddp = await w.ddp({ onChallenge: totpHook(w, a.secret) });
      await ddp.loginWithPassword(a.address, a.password);
      assert.equal(ddp.userId, a.id);
      await ddp.logout();
      assert.equal(ddp.userId, null);
      const e = await ddp.call('twofold:me').then(() => assert.fail('still logged in'), (x: unknown) => x);
      assert.ok(e instanceof TwofoldClientError);
    });

    it('answers ping, and a closed connection rejects calls with connection-closed', async () => {
      const ddp = await w.ddp();
      assert.ok(ddp.session.length > 0);
      await ddp.ping();
      const closed = await ddp.close();
      assert.equal(closed.code, 1000);
      const e = await ddp.call('twofold:me').then(() => assert.fail('answered'), (x: unknown) => x);
      assert.ok(e instanceof TwofoldClientError);
      assert.equal(e.code, 'connection-closed');
    });

    it('connect fails with connection-closed when the server refuses the socket', async () => {
      const e = await DdpClient.connect({ url: `${w.t.url}/not-ddp/websocket`, WebSocket })
        .then(() => assert.fail('connected'), (x: unknown) => x);
      assert.ok(e instanceof TwofoldClientError);
      assert.equal(e.code, 'connection-closed');
    });
  });
}
