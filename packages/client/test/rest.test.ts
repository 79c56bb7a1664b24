// The REST client against the real server: its one hook answers the login's 401 and a
// protected call's 400, on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { storesUnderTest } from '../../../test/helpers/stores.ts';
import { nextTotp, wrongTotp } from '../../../test/helpers/totp.ts';
import { RateLimitError, sha256Hex, TwoFactorLockedError, TwoFactorRequiredError, TwofoldClientError } from '../src/index.ts';
import { mailbox, recordingHook, sdkWorld, summary, totpHook, type SdkWorld } from './world.ts';

for (const store of storesUnderTest) {
  describe(`REST client (${store})`, () => {
    let w: SdkWorld;
    before(async () => { w = await sdkWorld(store); });
    after(() => w.close());

    it('logs in a user with email codes: the hook reads the mailed code and the client is logged in', async () => {
      const a = await w.emailUser();
      const readMail = mailbox(w, a.address);
      const hook = recordingHook(() => readMail());
      const client = w.rest({ onChallenge: hook });

      const login = await client.login(a.username, a.password);

      assert.deepEqual(summary(hook.seen), [{ method: 'email', attempt: 1, transport: 'rest', error: 'totp-required', call: '/api/v1/login' }]);
      assert.equal(hook.seen[0]!.details.codeGenerated, true);
      assert.equal(hook.seen[0]!.details.emailOrUsername, a.username);
      assert.equal(login.userId, a.id);
      assert.deepEqual(client.session, { userId: a.id, authToken: login.authToken });
      const me = await client.me();
      assert.equal(me.username, a.username);
      assert.equal(me.services?.email2fa?.enabled, true);
    });

    it('answers a TOTP user\'s login and protected call with a code computed from the secret', async () => {
      const a = await w.totpUser();
      const hook = recordingHook(totpHook(w, a.secret));
      const client = w.rest({ onChallenge: hook });

      await client.login(a.username, a.password);
      const pat = await client.post<{ token: string }>('users.generatePersonalAccessToken', { tokenName: 'ci' });

      assert.equal(typeof pat.token, 'string');
      assert.deepEqual(summary(hook.seen), [
        { method: 'totp', attempt: 1, transport: 'rest', error: 'totp-required', call: '/api/v1/login' },
        { method: 'totp', attempt: 1, transport: 'rest', error: 'totp-required', call: '/api/v1/users.generatePersonalAccessToken' },
      ]);
      const listed = await client.get<{ tokens: { name: string }[] }>('users.getPersonalAccessTokens');
      assert.deepEqual(listed.tokens.map((t) => t.name), ['ci']);
    });

    it('a refused code asks the hook again with the attempt counted and totp-invalid', async () => {
      const a = await w.totpUser();
      const right = totpHook(w, a.secret);
      const hook = recordingHook((ctx) => (ctx.attempt === 1 ? wrongTotp(a.secret, w.clock.now()) : right(ctx)));
      const client = w.rest({ onChallenge: hook });

      await client.login(a.username, a.password);

      assert.deepEqual(hook.seen.map((c) => [c.attempt, c.error]), [[1, 'totp-required'], [2, 'totp-invalid']]);
      assert.equal((await client.me()).username, a.username);
    });

    it('a protected call refused once is retried with the next code and goes through', async () => {
      const a = await w.totpUser();
      const right = totpHook(w, a.secret);
      const client = w.rest({ onChallenge: right });
      await client.login(a.username, a.password);
      const hook = recordingHook((ctx) => (ctx.attempt === 1 ? '000000' : right(ctx)));
      const stepUp = w.rest({ session: client.session, onChallenge: hook });

      const r = await stepUp.post<{ token: string }>('users.generatePersonalAccessToken', { tokenName: 'retry' });

      assert.equal(typeof r.token, 'string');
      assert.deepEqual(hook.seen.map((c) => [c.attempt, c.error, c.call]), [
        [1, 'totp-required', '/api/v1/users.generatePersonalAccessToken'],
        [2, 'totp-invalid', '/api/v1/users.generatePersonalAccessToken'],
      ]);
    });

    it('a hook that gives up (null) rejects with TwoFactorRequiredError carrying the challenge', async () => {
      const a = await w.emailUser();
      const hook = recordingHook(() => null);
      const client = w.rest({ onChallenge: hook });

      const e = await client.login(a.username, a.password).then(() => assert.fail('logged in'), (x: unknown) => x);

      assert.ok(e instanceof TwoFactorRequiredError);
      assert.equal(e.code, 'totp-required');
      assert.equal(e.status, 401);
      assert.equal(e.challenge.method, 'email');
      assert.deepEqual(e.challenge.availableMethods, ['email']);
      assert.equal(e.exhausted, false);
      assert.equal(hook.seen.length, 1);
      assert.equal(client.session, null);
    });

    it('without a hook a protected call rejects with the 400 challenge as TwoFactorRequiredError', async () => {
      const a = await w.plainUser();
      const client = w.rest();
      await client.login(a.username, a.password);

      const e = await client.post('users.generatePersonalAccessToken', { tokenName: 'x' }).then(() => assert.fail('created'), (x: unknown) => x);

      assert.ok(e instanceof TwoFactorRequiredError);
      assert.equal(e.status, 400);
      assert.equal(e.challenge.method, 'password');
    });

    it('answers the password fallback with the SHA-256 of the password', async () => {
      const a = await w.plainUser();
      const hook = recordingHook(({ method }) => (method === 'password' ? sha256Hex(a.password) : null));
      const client = w.rest({ onChallenge: hook });
      await client.login(a.username, a.password);
      assert.equal(hook.seen.length, 0, 'a login is never asked for the password again');

      const r = await client.post<{ token: string }>('users.generatePersonalAccessToken', { tokenName: 'fallback' });

      assert.equal(typeof r.token, 'string');
      assert.deepEqual(hook.seen.map((c) => c.method), ['password']);
    });

    it('stops after maxAttempts refused codes with an exhausted TwoFactorRequiredError', async () => {
      const a = await w.totpUser();
      const hook = recordingHook(() => wrongTotp(a.secret, w.clock.now()));
      const client = w.rest({ onChallenge: hook, maxAttempts: 2 });

      const e = await client.login(a.username, a.password).then(() => assert.fail('logged in'), (x: unknown) => x);

      assert.ok(e instanceof TwoFactorRequiredError);
      assert.equal(e.code, 'totp-invalid');
      assert.equal(e.exhausted, true);
      assert.equal(e.attempts, 2);
      assert.deepEqual(hook.seen.map((c) => c.attempt), [1, 2]);
    });

    it('totp-max-attempts from the server is a TwoFactorLockedError, not another question', async () => {
      const a = await w.totpUser();
      const limit = w.t.server.app.settings.failureLimit;
      const hook = recordingHook(() => wrongTotp(a.secret, w.clock.now()));
      const client = w.rest({ onChallenge: hook, maxAttempts: limit + 5 });

      const e = await client.login(a.username, a.password).then(() => assert.fail('logged in'), (x: unknown) => x);

      assert.ok(e instanceof TwoFactorLockedError);
      assert.equal(e.code, 'totp-max-attempts');
      assert.ok(hook.seen.length <= limit + 1, `asked ${hook.seen.length} times`);
    });

    it('resumes a login from its token without a challenge; a revoked token is forgotten', async () => {
      const a = await w.totpUser();
      const firstSaw: unknown[] = [];
      const first = w.rest({ onChallenge: totpHook(w, a.secret), onSessionChange: (s) => firstSaw.push(s) });
      const { authToken } = await first.login(a.username, a.password);
      const hook = recordingHook(() => null);
      const saved: unknown[] = [];
      const second = w.rest({ onChallenge: hook, onSessionChange: (s) => saved.push(s) });

      const resumed = await second.resume(authToken);

      assert.equal(resumed.userId, a.id);
      assert.equal(hook.seen.length, 0);
      assert.deepEqual(saved, [{ userId: a.id, authToken }]);
      await second.logout();
      assert.deepEqual(saved, [{ userId: a.id, authToken }, null]);
      const e = await first.me().then(() => assert.fail('still logged in'), (x: unknown) => x);
      assert.ok(e instanceof TwofoldClientError);
      assert.equal(e.status, 401);
      assert.equal(first.session, null, 'a token the server refuses is forgotten');
      assert.deepEqual(firstSaw, [{ userId: a.id, authToken }, null]);
    });

    it('"send again" from inside the hook mails a new code that logs in; another request at once is a RateLimitError', async () => {
      const a = await w.emailUser();
      const readMail = mailbox(w, a.address);
      const client = w.rest({
        async onChallenge({ details }) {
          await readMail(); // the code the challenge mailed, which this person lost
          assert.ok((await client.sendEmailCode(details.emailOrUsername!)).length === 1);
          return readMail();
        },
      });
      await client.login(a.username, a.password);
      assert.equal((await client.me()).username, a.username);

      // Two explicit requests less than TWOFOLD_SEND_CODE_USER_INTERVAL apart (spec §3.6).
      const e = await client.sendEmailCode(a.username).then(() => assert.fail('sent'), (x: unknown) => x);

      assert.ok(e instanceof RateLimitError);
      assert.equal(e.code, 'error-too-many-requests');
      assert.equal(e.status, 429);
      assert.ok(e.retryAfter !== undefined && e.retryAfter > 0 && e.retryAfter <= 60, `retryAfter ${e.retryAfter}`);
    });

    it('the hook may answer with another of the user\'s methods: {code, method: "email"} for a TOTP challenge', async () => {
      const a = await w.emailUser();
      const readMail = mailbox(w, a.address);
      const client = w.rest({ onChallenge: () => readMail() });
      await client.login(a.username, a.password);
      const { secret } = await client.post<{ secret: string }>('users.totp.enable');
      await client.post('users.totp.validate', { code: nextTotp(w.clock, secret) });
      const hook = recordingHook(async () => {
        // The authenticator app is not at hand: "send me an email instead". A TOTP challenge
        // names no emailOrUsername, so the client says who it is.
        await client.sendEmailCode(a.username);
        return { code: await readMail(), method: 'email' };
      });
      const stepUp = w.rest({ session: client.session, onChallenge: hook });

      const r = await stepUp.post<{ token: string }>('users.generatePersonalAccessToken', { tokenName: 'by-mail' });

      assert.equal(typeof r.token, 'string');
      assert.deepEqual(hook.seen.map((c) => [c.method, c.details.availableMethods]), [['totp', ['totp', 'email']]]);
    });

    it('a wrong password is login-failed, without asking the hook', async () => {
      const a = await w.emailUser();
      const hook = recordingHook(() => null);
      const e = await w.rest({ onChallenge: hook }).login(a.username, 'not it').then(() => assert.fail('logged in'), (x: unknown) => x);
      assert.ok(e instanceof TwofoldClientError);
      assert.equal(e.code, 'login-failed');
      assert.equal(hook.seen.length, 0);
    });
  });
}
