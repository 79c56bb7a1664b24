// DDP over REST: POST /api/v1/method.call/:method and /method.callAnon/:method carry a DDP
// `method` message as an EJSON string and answer the DDP `result` message the same way, as
// Rocket.Chat's web and mobile clients use them. A call answers exactly as on the socket.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RestClient } from '@rocket.chat/api-client';
import { FakeClock } from '../src/core/clock.ts';
import { ddpError, DdpTestClient, passwordLoginRequest, sha256 } from './helpers/ddp.ts';
import { emailUserSession, mailedCode, wrongCode } from './helpers/realtime.ts';
import { rest } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

type Auth = { userId: string; authToken: string };

for (const store of storesUnderTest) {
  describe(`DDP over REST: method.call and method.callAnon (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    let nextId = 1;
    before(async () => {
      t = await startTestServer({ store, clock, settings: { maxFrameBytes: 4096 } });
    });
    after(() => t.close());

    /** What Rocket.Chat's client does: the method in the path ("/" as ":"), the DDP message as EJSON in `message`. */
    async function call(endpoint: 'method.call' | 'method.callAnon', method: string, params: unknown[], auth?: Auth) {
      const id = String(nextId++);
      const res = await rest(t.url, 'POST', `/api/v1/${endpoint}/${encodeURIComponent(method.replace(/\//g, ':'))}`, {
        auth, body: { message: JSON.stringify({ msg: 'method', id, method, params }) },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body).sort(), ['message', 'success']);
      assert.equal(res.body.success, true);
      assert.equal(typeof res.body.message, 'string');
      const message = JSON.parse(res.body.message);
      assert.equal(message.msg, 'result');
      assert.equal(message.id, id);
      return message;
    }

    const codeFor = (username: string, run: () => Promise<unknown>) => mailedCode(t, clock, `${username}@example.com`, run);

    it('a protected method gets totp-required inside message, the same error object as on the socket; the trailing {twoFactorCode, twoFactorMethod} passes', async () => {
      const { ddp, user, token } = await emailUserSession(t, 'rhea');
      const auth = { userId: user.id, authToken: token };
      // The socket's call mails the code; both then see it live, so their challenges are identical.
      const code = await codeFor('rhea', () => ddpError(ddp.call('saveUserProfile', { realname: 'Rhea R' })));
      const overSocket = await ddpError(ddp.call('saveUserProfile', { realname: 'Rhea R' }));
      const overRest = await call('method.call', 'saveUserProfile', [{ realname: 'Rhea R' }], auth);
      assert.deepEqual(Object.keys(overRest).sort(), ['error', 'id', 'msg']);
      assert.equal(overRest.error.error, 'totp-required');
      assert.equal(overRest.error.details.codeGenerated, false);
      assert.deepEqual(overRest.error, overSocket);

      const wrong = await call('method.call', 'saveUserProfile', [{ realname: 'Rhea R' }, { twoFactorCode: wrongCode(code), twoFactorMethod: 'email' }], auth);
      assert.equal(wrong.error.error, 'totp-invalid');
      const ok = await call('method.call', 'saveUserProfile', [{ realname: 'Rhea R' }, { twoFactorCode: code, twoFactorMethod: 'email' }], auth);
      // Success has no `error` key at all, as on the socket.
      assert.deepEqual(ok, { msg: 'result', id: ok.id, result: true });
      assert.equal((await ddp.call('twofold:me')).name, 'Rhea R');
      ddp.close();
    });

    it('callWithTwoFactorRequired works through method.call', async () => {
      const { ddp, user, token } = await emailUserSession(t, 'sami');
      const auth = { userId: user.id, authToken: token };
      const code = await codeFor('sami', () => call('method.call', 'sendEmailCode', ['sami'], auth));
      const wrapped = await call('method.call', 'callWithTwoFactorRequired', [{ code, ddpMethod: 'saveUserProfile', method: 'email', params: [{ realname: 'Sami S' }] }], auth);
      assert.equal(wrapped.result, true);
      assert.equal((await ddp.call('twofold:me')).name, 'Sami S');
      const reused = await call('method.call', 'callWithTwoFactorRequired', [{ code, ddpMethod: 'saveUserProfile', method: 'email', params: [{ realname: 'Sami T' }] }], auth);
      assert.equal(reused.error.error, 'totp-invalid');
      ddp.close();
    });

    it('callAnon: sendEmailCode mails a code; a method that needs a login answers as on a socket without one', async () => {
      const { ddp } = await emailUserSession(t, 'tove');
      ddp.close();
      let sent: any;
      await codeFor('tove', async () => { sent = await call('method.callAnon', 'sendEmailCode', ['tove']); });
      // Asked by nobody, the addresses are masked, as on a socket that has not logged in.
      assert.deepEqual(sent.result, ['t•••e@example.com']);

      const anonymous = await DdpTestClient.open(t.wsUrl);
      for (const [method, params] of [['twofold:me', []], ['saveUserProfile', [{ realname: 'x' }]], ['callWithTwoFactorRequired', [{ code: '123456', ddpMethod: 'twofold:me', method: 'email', params: [] }]], ['no-such-method', []]] as const) {
        const overSocket = await ddpError(anonymous.call(method, ...params));
        const overRest = await call('method.callAnon', method, [...params]);
        assert.deepEqual(overRest.error, overSocket, method);
      }
      anonymous.close();
    });

    it('callAnon/login logs in as Rocket.Chat clients do, 2FA challenge included; the token then works on method.call', async () => {
      const { ddp } = await emailUserSession(t, 'ugo');
      ddp.close();
      const request = passwordLoginRequest('ugo', 'ugo pw');
      const failed = await call('method.callAnon', 'login', [{ ...request, password: { digest: sha256('wrong'), algorithm: 'sha-256' } }]);
      assert.equal(failed.error.error, 403);
      let challenge: any;
      const code = await codeFor('ugo', async () => { challenge = await call('method.callAnon', 'login', [request]); });
      assert.equal(challenge.error.error, 'totp-required');
      assert.equal(challenge.error.details.method, 'email');
      const done = await call('method.callAnon', 'login', [{ totp: { login: request, code } }]);
      assert.deepEqual(Object.keys(done.result).sort(), ['id', 'token', 'tokenExpires', 'type']);
      assert.equal(typeof done.result.tokenExpires.$date, 'number');
      const auth = { userId: done.result.id, authToken: done.result.token };
      assert.equal((await call('method.call', 'twofold:me', [], auth)).result.username, 'ugo');
      // callAnon runs as nobody even with valid headers, as Rocket.Chat's does.
      assert.equal((await call('method.callAnon', 'twofold:me', [], auth)).error.error, 'unauthorized');
    });

    it('Rocket.Chat\'s own REST client (@rocket.chat/api-client) does the web client\'s DDP over REST: callAnon/login, then method.call with the trailing code', async () => {
      const { ddp } = await emailUserSession(t, 'wynn');
      ddp.close();
      // What the web client's ddpOverREST does with each DDP message: stringify it, post it, parse `message`.
      const client = new RestClient({ baseUrl: t.url }) as unknown as { post(endpoint: string, params: unknown): Promise<any>; setCredentials(c: Record<string, string>): void };
      const send = async (endpoint: string, method: string, params: unknown[]) => {
        const id = String(nextId++);
        const answer = await client.post(`/v1/${endpoint}/${encodeURIComponent(method)}`, { message: JSON.stringify({ msg: 'method', id, method, params }) });
        const message = JSON.parse(answer.message);
        assert.equal(message.id, id);
        return message;
      };
      const request = passwordLoginRequest('wynn', 'wynn pw');
      const code = await codeFor('wynn', () => send('method.callAnon', 'login', [request]));
      const login = await send('method.callAnon', 'login', [{ totp: { login: request, code } }]);
      client.setCredentials({ 'X-User-Id': login.result.id, 'X-Auth-Token': login.result.token });
      let challenge: any;
      const code2 = await codeFor('wynn', async () => { challenge = await send('method.call', 'saveUserProfile', [{ realname: 'Wynn W' }]); });
      assert.equal(challenge.error.error, 'totp-required');
      assert.equal((await send('method.call', 'saveUserProfile', [{ realname: 'Wynn W' }, { twoFactorCode: code2, twoFactorMethod: 'email' }])).result, true);
      assert.equal((await send('method.call', 'twofold:me', [])).result.name, 'Wynn W');
    });

    it('bad requests get a clear HTTP error: no login, no or bad message, another method in the path, too large, not JSON', async () => {
      const user = await t.addUser({ username: 'vera', password: 'vera pw' });
      const ddp = await DdpTestClient.open(t.wsUrl);
      const { token } = await ddp.loginWithPassword('vera', 'vera pw');
      ddp.close();
      const auth = { userId: user.id, authToken: token };
      const post = (path: string, body: unknown, opts: { auth?: Auth; headers?: Record<string, string> } = {}) =>
        rest(t.url, 'POST', `/api/v1/${path}`, { body, ...opts });
      const message = (method: string, extra: Record<string, unknown> = {}) => JSON.stringify({ msg: 'method', id: '1', method, params: [], ...extra });

      const noLogin = await post('method.call/twofold:me', { message: message('twofold:me') });
      assert.equal(noLogin.status, 401);
      assert.equal(noLogin.body.errorType, 'unauthorized');
      const cases: [string, unknown, number, string][] = [
        ['method.call/twofold:me', {}, 400, 'error-parameter-required'],
        ['method.call/twofold:me', { message: { msg: 'method' } }, 400, 'error-invalid-params'],
        ['method.call/twofold:me', { message: '{"msg": "method", ' }, 400, 'error-invalid-json'],
        ['method.call/twofold:me', { message: '['.repeat(200) + ']'.repeat(200) }, 400, 'error-invalid-json'],
        ['method.call/twofold:me', { message: JSON.stringify({ msg: 'sub', id: '1', name: 'x' }) }, 400, 'error-invalid-params'],
        ['method.call/twofold:me', { message: JSON.stringify({ msg: 'method', method: 'twofold:me', params: [] }) }, 400, 'error-invalid-params'],
        ['method.call/twofold:me', { message: message('twofold:me', { params: {} }) }, 400, 'error-invalid-params'],
        ['method.call/sendEmailCode', { message: message('2fa:disable-email') }, 400, 'error-invalid-params'],
        ['method.call/twofold:me', { message: message('twofold:me', { pad: 'x'.repeat(5000) }) }, 400, 'error-body-too-large'],
      ];
      for (const [path, body, status, errorType] of cases) {
        const res = await post(path, body, { auth });
        assert.equal(res.status, status, `${path} ${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.success, false);
        assert.equal(res.body.errorType, errorType);
      }
      const form = await post('method.call/twofold:me', `message=${encodeURIComponent(message('twofold:me'))}`, { auth, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(form.status, 415);
      assert.equal(form.body.errorType, 'error-unsupported-media-type');
      // The path may name the method percent-encoded, as the client's encodeURIComponent does.
      const encoded = await post('method.call/twofold%3Ame', { message: message('twofold:me') }, { auth });
      assert.equal(JSON.parse(encoded.body.message).result.username, 'vera');
    });
  });
}
