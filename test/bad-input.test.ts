import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DdpTestClient } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { errorCatalogue } from '../src/core/errors.ts';

const documented = new Set(Object.keys(errorCatalogue));

for (const store of storesUnderTest) {
  describe(`bad input gets a documented error, never a 500 (${store})`, () => {
    let t: TestServer;
    let auth: { userId: string; authToken: string };
    before(async () => {
      t = await startTestServer({ store });
      await t.addUser({ username: 'eve', password: 'eve pw' });
      auth = await restLogin(t.url, 'eve', 'eve pw');
    });
    after(() => t.close());

    const expectError = (res: { status: number; body: any }, status: number, code: string) => {
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.body.success, false);
      assert.equal(res.body.errorType, code);
      assert.ok(documented.has(res.body.errorType));
      assert.match(res.body.error, new RegExp(`\\[${code}\\]$`));
    };

    it('REST: unknown fields, wrong types and missing fields', async () => {
      const extra = await rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: 'Eve', extra: 1 } } });
      expectError(extra, 400, 'invalid-params');
      assert.equal(extra.body.error, 'must NOT have additional properties [invalid-params]');
      expectError(await rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: 42 } }), 400, 'error-invalid-params');
      expectError(await rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: {} }), 400, 'error-parameter-required');
      expectError(await rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: [] }), 400, 'error-invalid-params');
      expectError(await rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: 'null' }), 400, 'error-invalid-params');
      expectError(await rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: 'x'.repeat(300) } }), 400, 'error-invalid-params');
      expectError(await rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: { $ne: 1 } } } }), 400, 'error-invalid-params');
      const login = await rest(t.url, 'POST', '/api/v1/login', { body: { user: ['eve'], password: 'x' } });
      expectError(login, 400, 'error-invalid-params');
    });

    it('REST: broken JSON, wrong content type and oversized bodies', async () => {
      expectError(await rest(t.url, 'POST', '/api/v1/login', { body: '{"user": "eve", ' }), 400, 'error-invalid-json');
      expectError(await rest(t.url, 'POST', '/api/v1/login', { body: 'user=eve', headers: { 'content-type': 'application/xml' } }), 415, 'error-unsupported-media-type');
      const huge = JSON.stringify({ emailOrUsername: 'a'.repeat(200 * 1024) });
      expectError(await rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: huge }), 400, 'error-body-too-large');
      const deep = '['.repeat(5000) + ']'.repeat(5000);
      const nested = await rest(t.url, 'POST', '/api/v1/login', { body: deep });
      assert.equal(nested.status, 400);
    });

    it('REST: an oversized or repeated second-factor header is refused', async () => {
      expectError(await rest(t.url, 'POST', '/api/v1/users.2fa.disableEmail', { auth, headers: { 'x-2fa-code': '1'.repeat(1000), 'x-2fa-method': 'email' } }), 400, 'error-invalid-header');
      // Node joins a repeated header into one value: the pair no longer matches, so no login.
      const res = await fetch(`${t.url}/api/v1/me`, { headers: [['x-user-id', auth.userId], ['x-user-id', 'other'], ['x-auth-token', auth.authToken]] });
      assert.equal(res.status, 401);
      assert.equal((await res.json()).errorType, 'unauthorized');
    });

    it('REST: an unknown endpoint is a JSON 404', async () => {
      expectError(await rest(t.url, 'GET', '/api/v1/nope'), 404, 'error-not-found');
    });

    it('DDP: wrong types, missing fields and unknown methods are Meteor errors and the connection stays', async () => {
      const ddp = await DdpTestClient.open(t.wsUrl);
      const codes = [];
      for (const [method, params] of [
        ['sendEmailCode', [42]], ['sendEmailCode', []], ['login', ['eve']], ['login', [{ user: { username: 'eve' }, password: { digest: 'zz', algorithm: 'sha-256' } }]],
        ['noSuchMethod', []], ['2fa:enable-email', []], ['callWithTwoFactorRequired', [{}]],
      ] as [string, unknown[]][]) {
        const frame = await ddp.callRaw(method, ...params);
        assert.ok(frame.error, `${method} should fail`);
        assert.equal(frame.error.errorType, 'Meteor.Error');
        assert.equal(frame.error.isClientSafe, true);
        codes.push(frame.error.error);
      }
      assert.deepEqual(codes, ['error-invalid-params', 'error-parameter-required', 'error-invalid-params', 'error-invalid-params', 'error-method-not-found', 'not-authorized', 'error-invalid-user']);
      ddp.send({ msg: 'method', id: 'p', method: 'sendEmailCode', params: 'eve' });
      const notArray = await ddp.waitFor((f) => f.id === 'p');
      assert.equal(notArray.error.error, 'error-invalid-params');
      assert.deepEqual(await ddp.call('twofold:me').catch((e) => e.error.error), 'unauthorized');
      ddp.close();
    });
  });
}
