// Rocket.Chat's own REST client (@rocket.chat/api-client, unmodified from npm) against our
// server: its two-factor handler sees our totp-required answers and retries with
// x-2fa-code / x-2fa-method, as it does against Rocket.Chat.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RestClient } from '@rocket.chat/api-client';
import { sha256 } from './helpers/ddp.ts';
import { twoFactorWorld, type Account, type TwoFactorWorld } from './helpers/rest-2fa.ts';
import { codeOf } from './helpers/smtp.ts';
import { productionLimits } from './helpers/limits.ts';
import { storesUnderTest } from './helpers/stores.ts';

type Prompt = { method: 'totp' | 'email' | 'password'; emailOrUsername?: string; invalidAttempt?: boolean };

// The client is typed for Rocket.Chat's endpoints; these tests call a few of them untyped.
interface LooseClient {
  post(endpoint: string, params?: unknown): Promise<any>;
  get(endpoint: string, params?: unknown): Promise<any>;
}
const loose = (c: RestClient) => c as unknown as LooseClient;

for (const store of storesUnderTest) {
  describe(`@rocket.chat/api-client against Twofold (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    /** The next code mailed to `a` after the mails seen so far. */
    const nextMailedCode = (a: Account, seen: number) => w.t.mail.waitFor((m) => m.to.includes(a.address) && m.subject === 'Authentication code', 10_000, seen).then(codeOf);

    /** Logs in through the client: its handler only covers 400s, so the 401 login challenge is answered by hand. */
    async function clientFor(a: Account): Promise<RestClient> {
      const client = new RestClient({ baseUrl: w.t.url });
      const seen = w.t.mail.messages.length;
      w.tick();
      const refused: Response = await loose(client).post('/v1/login', { user: a.username, password: a.password }).then(
        () => assert.fail('the first login attempt should be challenged'),
        (r: Response) => r,
      );
      assert.equal(refused.status, 401);
      assert.equal((await refused.json()).error, 'totp-required');
      const login = await loose(client).post('/v1/login', { user: a.username, password: a.password, code: await nextMailedCode(a, seen) });
      assert.equal(login.status, 'success');
      client.setCredentials({ 'X-User-Id': login.data.userId, 'X-Auth-Token': login.data.authToken });
      return client;
    }

    it('its two-factor handler completes an email challenge with the mailed code, and the call succeeds', async () => {
      const u = await w.emailUser();
      const client = await clientFor(u);
      const prompts: Prompt[] = [];
      const seen = w.t.mail.messages.length;
      client.handleTwoFactorChallenge(async (args) => {
        prompts.push(args);
        return nextMailedCode(u, seen);
      });
      w.tick();
      const result = await loose(client).post('/v1/users.generatePersonalAccessToken', { tokenName: 'from-sdk', bypassTwoFactor: false });
      assert.equal(result.success, true);
      assert.equal(typeof result.token, 'string');
      assert.deepEqual(prompts, [{ method: 'email', emailOrUsername: u.username, invalidAttempt: false }]);
      const tokens = await loose(client).get('/v1/users.getPersonalAccessTokens');
      assert.deepEqual(tokens.tokens.map((t: { name: string }) => t.name), ['from-sdk']);
    });

    it('after a wrong code the handler is asked again with invalidAttempt, and the right code then passes', async () => {
      const u = await w.emailUser();
      const client = await clientFor(u);
      const prompts: Prompt[] = [];
      const seen = w.t.mail.messages.length;
      client.handleTwoFactorChallenge(async (args) => {
        prompts.push(args);
        const code = await nextMailedCode(u, seen);
        return prompts.length === 1 ? (code === '000000' ? '000001' : '000000') : code;
      });
      w.tick();
      const result = await loose(client).post('/v1/users.2fa.disableEmail');
      assert.deepEqual(result, { success: true });
      assert.deepEqual(prompts.map((p) => [p.method, p.invalidAttempt]), [['email', false], ['email', true]]);
    });

    it('the password fallback: the handler is asked for method password and answers the SHA-256 of the password', async () => {
      const admin = await w.plainUser({ roles: ['user', 'admin'] });
      const target = await w.plainUser();
      const client = new RestClient({ baseUrl: w.t.url });
      const login = await loose(client).post('/v1/login', { user: admin.username, password: admin.password });
      client.setCredentials({ 'X-User-Id': login.data.userId, 'X-Auth-Token': login.data.authToken });
      const prompts: Prompt[] = [];
      client.handleTwoFactorChallenge(async (args) => {
        prompts.push(args);
        return sha256(admin.password);
      });
      const result = await client.post('/v1/users.update', { userId: target.id, data: { requirePasswordChange: false } });
      // Typed as Rocket.Chat's users.update answer, which has the user; success is in every answer.
      assert.equal((result as unknown as { success: boolean }).success, true);
      assert.equal(result.user._id, target.id);
      assert.deepEqual(prompts.map((p) => p.method), ['password']);
    });
  });
}

// The same client with the production send limits: its challenge flow asks for the code to be
// sent again right after the challenge mailed one, which must not be refused (issue 12 point 1).
for (const store of storesUnderTest) {
  describe(`@rocket.chat/api-client "send again" inside a challenge, production send limits (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store, { settings: { ...productionLimits, sendCodeAddressPerHour: 100_000 } }); });
    after(() => w.t.close());

    const mailsTo = (a: Account) => w.t.mail.messages.filter((m) => m.to.includes(a.address) && m.subject === 'Authentication code');

    it('login → 401 totp-required (a code is mailed) → users.2fa.sendEmailCode at once → 200 and a second mail → login with the newest code', async () => {
      const u = await w.emailUser();
      w.clock.advance(3601);
      const client = new RestClient({ baseUrl: w.t.url });
      const refused: Response = await loose(client).post('/v1/login', { user: u.username, password: u.password }).then(
        () => assert.fail('the first login attempt should be challenged'),
        (r: Response) => r,
      );
      assert.equal(refused.status, 401);
      const challenge = await refused.json();
      assert.equal(challenge.error, 'totp-required');
      assert.equal(challenge.details.codeGenerated, true);
      await w.t.mail.waitFor((m) => m.to.includes(u.address), 10_000);
      assert.equal(mailsTo(u).length, 1);

      const seen = w.t.mail.messages.length;
      const resent = await loose(client).post('/v1/users.2fa.sendEmailCode', { emailOrUsername: u.username });
      assert.equal(resent.success, true);
      assert.equal(resent.emails.length, 1, 'the address the code went to (masked: the caller is not logged in)');
      const newest = await nextMailedCodeIn(w, u, seen);
      assert.equal(mailsTo(u).length, 2, 'a second code was mailed');

      const login = await loose(client).post('/v1/login', { user: u.username, password: u.password, code: newest });
      assert.equal(login.status, 'success');
      assert.equal(login.data.userId, u.id);

      // Two explicit requests back to back: the second waits out the interval.
      await loose(client).post('/v1/users.2fa.sendEmailCode', { emailOrUsername: u.username }).then(
        () => assert.fail('a second explicit request at once must be refused'),
        async (r: Response) => {
          assert.equal(r.status, 429);
          const body = await r.json();
          assert.equal(body.errorType, 'error-too-many-requests');
          assert.equal(body.details.timeToReset, 60);
        },
      );
    });

    it('a protected call whose challenge mailed a code: the handler presses "send again", gets 200, and the newest code completes the call', async () => {
      const u = await w.emailUser();
      w.clock.advance(3601);
      const auth = await w.loginEmailUser(u);
      w.clock.advance(3601);
      const client = new RestClient({ baseUrl: w.t.url });
      client.setCredentials({ 'X-User-Id': auth.userId, 'X-Auth-Token': auth.authToken });
      const prompts: Prompt[] = [];
      const mailsBefore = mailsTo(u).length;
      client.handleTwoFactorChallenge(async (args) => {
        prompts.push(args);
        // The challenge mailed a code; the user asks for another one, as Rocket.Chat's modal lets them.
        const before = w.t.mail.messages.length;
        const resent = await loose(client).post('/v1/users.2fa.sendEmailCode', { emailOrUsername: args.emailOrUsername });
        assert.deepEqual(resent, { emails: [u.address], success: true });
        assert.equal(mailsTo(u).length - mailsBefore, 2, 'the challenge\'s code and the one sent again');
        return nextMailedCodeIn(w, u, before);
      });
      const result = await loose(client).post('/v1/users.generatePersonalAccessToken', { tokenName: 'after-resend' });
      assert.equal(result.success, true);
      assert.deepEqual(prompts.map((p) => [p.method, p.invalidAttempt]), [['email', false]]);
    });
  });
}

function nextMailedCodeIn(w: TwoFactorWorld, a: Account, seen: number): Promise<string> {
  return w.t.mail.waitFor((m) => m.to.includes(a.address) && m.subject === 'Authentication code', 10_000, seen).then(codeOf);
}
