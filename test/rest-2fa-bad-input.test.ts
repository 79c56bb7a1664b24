// Malformed second factors over REST: each gets a documented error, never a 500.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { passwordCode, rawRequest, twoFactorWorld, type TwoFactorWorld } from './helpers/rest-2fa.ts';
import { storesUnderTest } from './helpers/stores.ts';

const PAT = '/api/v1/users.generatePersonalAccessToken';

/** Sends one header twice, which fetch cannot do. */
function duplicateHeader(url: string, headers: Record<string, string>, name: string, values: string[], body: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const raw: string[] = [];
    for (const [k, v] of Object.entries(headers)) raw.push(k, v);
    for (const v of values) raw.push(name, v);
    // Node adds neither Host nor framing when headers come as a raw list.
    raw.push('host', new URL(url).host, 'content-length', String(Buffer.byteLength(body)));
    const req = request(url, { method: 'POST', headers: raw }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

for (const store of storesUnderTest) {
  describe(`REST 2FA: bad input (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    it('both headers missing, or only the method: totp-required', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      await w.codeFrom(u, () => w.call('POST', PAT, { auth, body: { tokenName: 'a' } }));
      const variants: Record<string, string>[] = [{}, { 'x-2fa-method': 'email' }, { 'x-2fa-method': 'email', 'x-2fa-code': '' }];
      for (const headers of variants) {
        const res = await w.call('POST', PAT, { auth, body: { tokenName: 'a' }, headers });
        assert.equal(res.status, 400, JSON.stringify(headers));
        assert.equal(res.body.errorType, 'totp-required', JSON.stringify(headers));
      }
    });

    it('only the code: the server\'s method checks it', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const code = await w.codeFrom(u, () => w.call('POST', PAT, { auth, body: { tokenName: 'a' } }));
      const res = await w.call('POST', PAT, { auth, body: { tokenName: 'a' }, headers: { 'x-2fa-code': code } });
      assert.equal(res.status, 200);
    });

    it('codes of the wrong length or shape are totp-invalid', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      await w.codeFrom(u, () => w.call('POST', PAT, { auth, body: { tokenName: 'a' } }));
      for (const code of ['1', '12345', '1234567', 'abcdef', 'x'.repeat(200)]) {
        const res = await w.call('POST', PAT, { auth, body: { tokenName: 'a' }, headers: { 'x-2fa-code': code, 'x-2fa-method': 'email' } });
        assert.equal(res.status, 400, code);
        assert.match(res.body.errorType, /^totp-(invalid|max-attempts)$/, code);
      }
    });

    it('an oversized or repeated header is 400 error-invalid-header or totp-invalid, never a 500', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const huge = await w.call('POST', PAT, { auth, body: { tokenName: 'a' }, headers: { 'x-2fa-code': '1'.repeat(5000), 'x-2fa-method': 'password' } });
      assert.equal(huge.status, 400);
      assert.equal(huge.body.errorType, 'error-invalid-header');
      const twice = await duplicateHeader(`${w.t.url}${PAT}`, {
        'x-user-id': auth.userId, 'x-auth-token': auth.authToken, 'content-type': 'application/json', 'x-2fa-method': 'password',
      }, 'x-2fa-code', [passwordCode(u), passwordCode(u)], JSON.stringify({ tokenName: 'a' }));
      assert.equal(twice.status, 400);
      assert.match(twice.body.errorType, /^(totp-invalid|error-invalid-header)$/);
      const hugeMethod = await w.call('POST', PAT, { auth, body: { tokenName: 'a' }, headers: { 'x-2fa-code': passwordCode(u), 'x-2fa-method': 'm'.repeat(1000) } });
      assert.equal(hugeMethod.status, 400);
    });

    it('an unknown method name is refused before any code is looked at, as on DDP (one method-name list)', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const code = await w.codeFrom(u, () => w.call('POST', PAT, { auth, body: { tokenName: 'a' } }));
      for (const method of ['sms', 'SMS', 'Email']) {
        const refused = await w.call('POST', PAT, { auth, body: { tokenName: 'a' }, headers: { 'x-2fa-code': code, 'x-2fa-method': method } });
        assert.equal(refused.status, 400, method);
        assert.equal(refused.body.errorType, 'error-invalid-params', method);
        assert.match(refused.body.error, /twoFactorMethod must be one of totp, email, password/);
      }
      // Nothing was counted against the code: it still passes with a real method name.
      const right = await w.call('POST', PAT, { auth, body: { tokenName: 'a' }, headers: { 'x-2fa-code': code, 'x-2fa-method': 'email' } });
      assert.equal(right.status, 200);
    });

    it('a code for a method the user lacks is totp-invalid for that method', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      await w.codeFrom(u, () => w.call('POST', PAT, { auth, body: { tokenName: 'a' } }));
      const totp = await w.call('POST', PAT, { auth, body: { tokenName: 'a' }, headers: { 'x-2fa-code': '123456', 'x-2fa-method': 'totp' } });
      assert.equal(totp.status, 400);
      assert.equal(totp.body.errorType, 'totp-invalid');
      assert.equal(totp.body.details.method, 'totp');
      assert.deepEqual(totp.body.details.availableMethods, ['email']);
      // The password is not a second factor for a user who has one.
      const pw = await w.call('POST', PAT, { auth, body: { tokenName: 'a' }, headers: { 'x-2fa-code': passwordCode(u), 'x-2fa-method': 'password' } });
      assert.equal(pw.body.errorType, 'totp-invalid');
      assert.equal(pw.body.details.method, 'email');
      // And an email code is no use to a user without email codes.
      const plain = await w.plainUser();
      const plainAuth = await w.login(plain);
      const email = await w.call('POST', PAT, { auth: plainAuth, body: { tokenName: 'a' }, headers: { 'x-2fa-code': '123456', 'x-2fa-method': 'email' } });
      assert.equal(email.body.errorType, 'totp-invalid');
      assert.equal(email.body.details.method, 'email');
      assert.deepEqual(email.body.details.availableMethods, []);
    });

    it('a login code of the wrong type is 400, not a 500; a number is taken as digits', async () => {
      const u = await w.emailUser();
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password } }));
      for (const bad of [{}, [], true, -1, 1.5, 'x'.repeat(300)]) {
        const res = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password, code: bad } });
        assert.equal(res.status, 400, JSON.stringify(bad));
        assert.equal(res.body.success, false);
      }
      if (!code.startsWith('0')) {
        const ok = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password, code: Number(code) } });
        assert.equal(ok.status, 200);
      }
    });

    it('a body that is not JSON, or the wrong type of emailOrUsername, is a 400', async () => {
      const broken = await rawRequest(`${w.t.url}/api/v1/users.2fa.sendEmailCode`, 'POST', { 'Content-Type': 'application/json' }, '{"emailOrUsername": ');
      assert.equal(broken.status, 400);
      assert.equal(broken.body.errorType, 'error-invalid-json');
      for (const emailOrUsername of [5, ['a'], { $ne: null }, 'x'.repeat(1000)]) {
        const res = await w.call('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername } });
        assert.equal(res.status, 400, JSON.stringify(emailOrUsername));
        assert.equal(res.body.errorType, 'error-invalid-params');
      }
      const extra = await w.call('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: 'a', admin: true } });
      assert.equal(extra.status, 400);
    });
  });
}
