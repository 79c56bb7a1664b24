// Every call of the REST seed (001_20a798f022651000.txt), verbatim, over real HTTP and SMTP.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { maskEmail } from '../src/core/accounts.ts';
import { codeOf } from './helpers/smtp.ts';
import { passwordCode, rawRequest, twoFactorWorld, type TwoFactorWorld } from './helpers/rest-2fa.ts';
import { storesUnderTest } from './helpers/stores.ts';

const expiry = (w: TwoFactorWorld) => new Date(w.clock.now() + w.t.server.app.settings.emailCodeTtl * 1000).toISOString();

for (const store of storesUnderTest) {
  describe(`REST seed: the totp-required challenge (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    it('a protected endpoint answers 400 with the seed\'s totp-required body, and the mailed code passes on retry', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: u.username } }));
      const expires = expiry(w);
      const challenged = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'ci' } });
      assert.equal(challenged.status, 400);
      assert.deepEqual(challenged.body, {
        success: false,
        error: 'TOTP Required [totp-required]',
        errorType: 'totp-required',
        details: {
          method: 'email', codeGenerated: false, codeCount: 1, codeExpires: [expires],
          availableMethods: ['email'], emailOrUsername: u.username, destinations: [maskEmail(u.address)],
        },
      });
      const retried = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', {
        auth, body: { tokenName: 'ci' }, headers: { 'x-2fa-code': code, 'x-2fa-method': 'email' },
      });
      assert.equal(retried.status, 200);
      assert.equal(retried.body.success, true);
      assert.equal(typeof retried.body.token, 'string');
    });

    it('a login by username names every verified address, masked, in details.destinations', async () => {
      const u = await w.emailUser();
      const store = w.t.server.app.store.users;
      w.clock.advance(1); // added after the first, so listed after it
      await store.addEmail(u.id, `${u.username}-work@example.org`, true, w.clock.now());
      await store.addEmail(u.id, 'not-yet@example.org', false, w.clock.now());
      let challenged: any;
      await w.codeFrom(u, async () => {
        challenged = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password } });
      });
      assert.equal(challenged.body.error, 'totp-required');
      assert.deepEqual(challenged.body.details.destinations, [maskEmail(u.address), `${u.username[0]}•••k@example.org`]);
      assert.ok(!JSON.stringify(challenged.body).includes(u.address), 'no address in the clear');
    });

    it('without a live code the call mails one and says codeGenerated: true', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      let challenged: any;
      const code = await w.codeFrom(u, async () => {
        challenged = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'x' } });
      });
      assert.equal(challenged.status, 400);
      assert.equal(challenged.body.errorType, 'totp-required');
      assert.equal(challenged.body.details.codeGenerated, true);
      assert.equal(challenged.body.details.codeCount, 1);
      assert.deepEqual(challenged.body.details.codeExpires, [expiry(w)]);
      const ok = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', {
        auth, body: { tokenName: 'x' }, headers: { 'x-2fa-code': code, 'x-2fa-method': 'email' },
      });
      assert.equal(ok.status, 200);
    });

    it('the headers work spelled X-2fa-code and X-2fa-method, as the seed writes them', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.2fa.disableEmail', { auth }));
      const res = await rawRequest(`${w.t.url}/api/v1/users.2fa.disableEmail`, 'POST', {
        'X-Auth-Token': auth.authToken, 'X-User-Id': auth.userId, 'X-2fa-code': code, 'X-2fa-method': 'email',
      });
      assert.deepEqual(res, { status: 200, body: { success: true } });
    });

    it('a wrong code gives the seed\'s totp-invalid body', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: u.username } }));
      const expires = expiry(w);
      const wrong = code === '111111' ? '222222' : '111111';
      const res = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', {
        auth, body: { tokenName: 'x' }, headers: { 'x-2fa-code': wrong, 'x-2fa-method': 'email' },
      });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, {
        success: false,
        error: 'TOTP Invalid [totp-invalid]',
        errorType: 'totp-invalid',
        details: {
          method: 'email', codeGenerated: false, codeCount: 1, codeExpires: [expires],
          availableMethods: ['email'], emailOrUsername: u.username, destinations: [maskEmail(u.address)],
          // Twofold's own keys after the protocol's, for pages that say what happened.
          reason: 'wrong', attemptsLeft: 4,
        },
      });
      // The wrong try did not burn the live code.
      const ok = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', {
        auth, body: { tokenName: 'x' }, headers: { 'x-2fa-code': code, 'x-2fa-method': 'email' },
      });
      assert.equal(ok.status, 200);
    });

    it('a code shown as 123-456 in the mail may be typed with its dash', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.2fa.disableEmail', { auth }));
      const res = await w.call('POST', '/api/v1/users.2fa.disableEmail', {
        auth, headers: { 'x-2fa-code': `${code.slice(0, 3)}-${code.slice(3)}`, 'x-2fa-method': 'email' },
      });
      assert.equal(res.status, 200);
    });
  });

  describe(`REST seed: users.2fa.sendEmailCode (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    it('an anonymous caller gets the addresses masked, by username or by email', async () => {
      const u = await w.emailUser();
      const masked = `${u.address[0]}•••${u.username[u.username.length - 1]}@example.com`;
      for (const emailOrUsername of [u.username, u.address]) {
        let res: any;
        await w.codeFrom(u, async () => { res = await w.call('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername } }); });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { emails: [masked], success: true });
      }
    });

    it('the user themself gets the addresses whole; another logged-in user gets them masked', async () => {
      const u = await w.emailUser();
      const other = await w.plainUser();
      const auth = await w.loginEmailUser(u);
      let own: any;
      await w.codeFrom(u, async () => { own = await w.call('POST', '/api/v1/users.2fa.sendEmailCode', { auth, body: { emailOrUsername: u.username } }); });
      assert.deepEqual(own.body, { emails: [u.address], success: true });
      const otherAuth = await w.login(other);
      let foreign: any;
      await w.codeFrom(u, async () => { foreign = await w.call('POST', '/api/v1/users.2fa.sendEmailCode', { auth: otherAuth, body: { emailOrUsername: u.username } }); });
      assert.notDeepEqual(foreign.body.emails, [u.address]);
      assert.match(foreign.body.emails[0], /•••/);
    });

    it('every code sent stays live: the details count them', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const first = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: u.username } }));
      const firstExpires = expiry(w);
      await w.codeFrom(u, () => w.call('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: u.username } }));
      const secondExpires = expiry(w);
      const res = await w.call('POST', '/api/v1/users.2fa.disableEmail', { auth });
      assert.equal(res.body.details.codeCount, 2);
      assert.deepEqual(res.body.details.codeExpires, [firstExpires, secondExpires]);
      // The older code still works.
      const ok = await w.call('POST', '/api/v1/users.2fa.disableEmail', { auth, headers: { 'x-2fa-code': first, 'x-2fa-method': 'email' } });
      assert.equal(ok.status, 200);
    });

    it('a missing emailOrUsername is 400 error-parameter-required', async () => {
      for (const body of [undefined, {}, { emailOrUsername: '' }, { emailOrUsername: '   ' }]) {
        const res = await w.call('POST', '/api/v1/users.2fa.sendEmailCode', { body, headers: { 'content-type': 'application/json' } });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.success, false);
        assert.equal(res.body.errorType, 'error-parameter-required', JSON.stringify(body));
      }
    });

    it('an unknown user is 400 error-invalid-user, and no mail goes out', async () => {
      const before = w.t.mail.messages.length;
      for (const emailOrUsername of ['nobody-here', 'nobody@example.com']) {
        const res = await w.call('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername } });
        assert.equal(res.status, 400);
        assert.deepEqual(res.body, { success: false, error: 'Invalid user [error-invalid-user]', errorType: 'error-invalid-user' });
      }
      assert.equal(w.t.mail.messages.length, before);
    });
  });

  describe(`REST seed: users.2fa.enableEmail and users.2fa.disableEmail (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    it('enableEmail without a login is 401 not-authorized', async () => {
      const res = await w.call('POST', '/api/v1/users.2fa.enableEmail');
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { success: false, error: 'Not authorized [not-authorized]', errorType: 'not-authorized' });
      const wrongToken = await w.call('POST', '/api/v1/users.2fa.enableEmail', { auth: { userId: 'someone', authToken: 'not-a-token' } });
      assert.equal(wrongToken.status, 401);
    });

    it('enableEmail needs a verified email: error-invalid-user otherwise', async () => {
      const u = await w.t.addUser({ username: 'unverified', password: 'pw', email: 'unverified@example.com', verified: false });
      w.clock.advance(w.t.server.app.settings.rememberFor + 1);
      const auth = await w.login({ username: 'unverified', password: 'pw', address: 'unverified@example.com', id: u.id });
      const res = await w.call('POST', '/api/v1/users.2fa.enableEmail', { auth });
      assert.equal(res.status, 400);
      assert.equal(res.body.errorType, 'error-invalid-user');
      assert.equal((await w.call('GET', '/api/v1/me', { auth })).body.services.email2fa.enabled, false);
    });

    it('enableEmail answers {success: true} and from then on protected calls ask for an email code', async () => {
      const u = await w.plainUser();
      const auth = await w.login(u);
      const res = await w.call('POST', '/api/v1/users.2fa.enableEmail', { auth });
      assert.deepEqual(res, { ...res, status: 200, body: { success: true } });
      assert.equal((await w.call('GET', '/api/v1/me', { auth })).body.services.email2fa.enabled, true);
      let challenged: any;
      await w.codeFrom(u, async () => { challenged = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'a' } }); });
      assert.equal(challenged.body.details.method, 'email');
      assert.deepEqual(challenged.body.details.availableMethods, ['email']);
    });

    it('disableEmail always asks, even right after a remembered success', async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const first = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: 'One' } } }));
      const passed = await w.call('POST', '/api/v1/users.updateOwnBasicInfo', {
        auth, body: { data: { name: 'One' } }, headers: { 'x-2fa-code': first, 'x-2fa-method': 'email' },
      });
      assert.equal(passed.status, 200);
      // Remembered: an ordinary protected call passes without a code now…
      assert.equal((await w.call('POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name: 'Two' } } })).status, 200);
      // …but disabling the method does not.
      let challenged: any;
      const code = await w.codeFrom(u, async () => { challenged = await w.call('POST', '/api/v1/users.2fa.disableEmail', { auth }); });
      assert.equal(challenged.status, 400);
      assert.equal(challenged.body.errorType, 'totp-required');
      const done = await w.call('POST', '/api/v1/users.2fa.disableEmail', { auth, headers: { 'x-2fa-code': code, 'x-2fa-method': 'email' } });
      assert.deepEqual(done.body, { success: true });
      assert.equal((await w.call('GET', '/api/v1/me', { auth })).body.services.email2fa.enabled, false);
    });

    it('disableEmail without a login is 401', async () => {
      const res = await w.call('POST', '/api/v1/users.2fa.disableEmail');
      assert.equal(res.status, 401);
      assert.equal(res.body.errorType, 'not-authorized');
    });
  });

  describe(`REST seed: the password fallback (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    it('users.update asks an admin with no method for the password, and the seed\'s curl call passes verbatim', async () => {
      const admin = await w.plainUser({ roles: ['user', 'admin'] });
      const target = await w.plainUser();
      const auth = await w.login(admin);
      await w.t.server.app.store.users.update(target.id, { requirePasswordChange: true });

      const challenged = await w.call('POST', '/api/v1/users.update', { auth, body: { userId: target.id, data: { requirePasswordChange: false } } });
      assert.equal(challenged.status, 400);
      assert.deepEqual(challenged.body, {
        success: false, error: 'TOTP Required [totp-required]', errorType: 'totp-required',
        details: { method: 'password', codeGenerated: false, availableMethods: [] },
      });

      const wrong = await w.call('POST', '/api/v1/users.update', {
        auth, body: { userId: target.id, data: { requirePasswordChange: false } },
        headers: { 'x-2fa-code': passwordCode({ ...admin, password: 'not it' }), 'x-2fa-method': 'password' },
      });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error, 'TOTP Invalid [totp-invalid]');
      assert.equal(wrong.body.details.method, 'password');

      // curl -H "X-Auth-Token: …" -H "X-User-Id: …" -H "Content-type: application/json"
      //      -H "X-2fa-code: …" -H "X-2fa-method: password" …/api/v1/users.update -d '…'
      const res = await rawRequest(`${w.t.url}/api/v1/users.update`, 'POST', {
        'User-Agent': 'curl/8.5.0',
        Accept: '*/*',
        'X-Auth-Token': auth.authToken,
        'X-User-Id': auth.userId,
        'Content-type': 'application/json',
        'X-2fa-code': passwordCode(admin),
        'X-2fa-method': 'password',
      }, `{"userId": "${target.id}", \n          "data": { "requirePasswordChange": false }}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.success, true);
      assert.equal(res.body.user._id, target.id);
      assert.equal(res.body.user.requirePasswordChange, false);
      assert.equal((await w.t.server.app.store.users.byId(target.id))!.requirePasswordChange, false);
    });

    it('the password hash may be sent in upper case', async () => {
      const admin = await w.plainUser({ roles: ['user', 'admin'] });
      const target = await w.plainUser();
      const auth = await w.login(admin);
      const res = await w.call('POST', '/api/v1/users.update', {
        auth, body: { userId: target.id, data: { name: 'Renamed' } },
        headers: { 'X-2fa-code': passwordCode(admin).toUpperCase(), 'X-2fa-method': 'password' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.user.name, 'Renamed');
    });

    it('after a success the same token and client are not asked again for a while', async () => {
      const admin = await w.plainUser({ roles: ['user', 'admin'] });
      const target = await w.plainUser();
      const auth = await w.login(admin);
      const headers = { 'x-2fa-code': passwordCode(admin), 'x-2fa-method': 'password' };
      assert.equal((await w.call('POST', '/api/v1/users.update', { auth, headers, body: { userId: target.id, data: { name: 'A' } } })).status, 200);
      assert.equal((await w.call('POST', '/api/v1/users.update', { auth, body: { userId: target.id, data: { name: 'B' } } })).status, 200);
      // Another browser with the same token is asked.
      const elsewhere = await w.call('POST', '/api/v1/users.update', { auth, headers: { 'user-agent': 'another browser' }, body: { userId: target.id, data: { name: 'C' } } });
      assert.equal(elsewhere.body.errorType, 'totp-required');
      w.clock.advance(w.t.server.app.settings.rememberFor + 1);
      const later = await w.call('POST', '/api/v1/users.update', { auth, body: { userId: target.id, data: { name: 'D' } } });
      assert.equal(later.body.errorType, 'totp-required');
    });

    it('a new admin is not asked during the first RememberFor seconds after sign-up', async () => {
      await w.t.addUser({ username: 'newadmin', password: 'fresh pw', roles: ['user', 'admin'] });
      const target = await w.plainUser();
      const auth = await w.login({ username: 'newadmin', password: 'fresh pw', address: '', id: '' });
      const res = await w.call('POST', '/api/v1/users.update', { auth, body: { userId: target.id, data: { name: 'Graced' } } });
      assert.equal(res.status, 400, 'plainUser() advanced the clock past the grace already');
      await w.t.addUser({ username: 'newer', password: 'fresh pw', roles: ['user', 'admin'] });
      const fresh = await w.login({ username: 'newer', password: 'fresh pw', address: '', id: '' });
      const graced = await w.call('POST', '/api/v1/users.update', { auth: fresh, body: { userId: target.id, data: { name: 'Graced' } } });
      assert.equal(graced.status, 200);
    });
  });

  describe(`REST seed: the code email (${store})`, () => {
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store); });
    after(() => w.t.close());

    it('goes over SMTP as one message per verified address, subject "Authentication code", text and HTML with 123-456', async () => {
      const u = await w.emailUser();
      const { users } = w.t.server.app.store;
      await users.addEmail(u.id, `second-${u.address}`, true, w.clock.now());
      await users.addEmail(u.id, `unverified-${u.address}`, false, w.clock.now());
      const seen = w.t.mail.messages.length;
      w.tick();
      const res = await w.call('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: u.username } });
      assert.equal(res.status, 200);
      assert.equal(res.body.emails.length, 2);
      const mails = w.t.mail.messages.slice(seen);
      assert.deepEqual(mails.map((m) => m.to).sort(), [[u.address], [`second-${u.address}`]].sort());
      const code = codeOf(mails[0]!);
      for (const m of mails) {
        assert.equal(m.subject, 'Authentication code');
        assert.match(m.from, /no-reply@twofold\.local/);
        const shown = `${code.slice(0, 3)}-${code.slice(3)}`;
        assert.ok(m.text.includes(shown), 'text part shows the code as 123-456');
        assert.ok(m.html.includes(shown), 'HTML part shows the code as 123-456');
        assert.match(m.text, /not share/i);
        assert.match(m.text, /did not try to sign in, ignore/i);
        assert.equal(codeOf(m), code, 'the same code to every address');
      }
    });
  });

  describe(`REST seed: codes never reach the log (${store})`, () => {
    const lines: string[] = [];
    let w: TwoFactorWorld;
    before(async () => { w = await twoFactorWorld(store, { logLines: lines }); });
    after(() => w.t.close());

    it('a full challenge, the login, a wrong code and the password fallback leave no code, digest or token in the log', async () => {
      const u = await w.emailUser();
      const secrets: string[] = [];
      const loginCode = await w.codeFrom(u, () => w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password } }));
      secrets.push(loginCode);
      const login = await w.call('POST', '/api/v1/login', { body: { user: u.username, password: u.password, code: loginCode } });
      const auth = { userId: login.body.data.userId, authToken: login.body.data.authToken };
      secrets.push(auth.authToken);
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'log' } }));
      secrets.push(code);
      const wrong = code === '123456' ? '654321' : '123456';
      secrets.push(wrong);
      await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'log' }, headers: { 'x-2fa-code': wrong, 'x-2fa-method': 'email' } });
      const pat = await w.call('POST', '/api/v1/users.generatePersonalAccessToken', { auth, body: { tokenName: 'log' }, headers: { 'x-2fa-code': code, 'x-2fa-method': 'email' } });
      assert.equal(pat.status, 200);
      secrets.push(pat.body.token);
      const admin = await w.plainUser({ roles: ['user', 'admin'] });
      const adminAuth = await w.login(admin);
      secrets.push(adminAuth.authToken, passwordCode(admin));
      const updated = await w.call('POST', '/api/v1/users.update', {
        auth: adminAuth, body: { userId: u.id, data: { name: 'Logged' } }, headers: { 'x-2fa-code': passwordCode(admin), 'x-2fa-method': 'password' },
      });
      assert.equal(updated.status, 200);

      const log = lines.join('');
      assert.match(log, /users\.generatePersonalAccessToken/, 'the log was captured');
      assert.match(log, /mail sent over SMTP/, 'mail sending was logged');
      for (const secret of secrets) {
        const pattern = new RegExp(`(?<![0-9A-Za-z_-])${secret.replace(/[-]/g, '\\-')}(?![0-9A-Za-z_-])`);
        assert.doesNotMatch(log, pattern);
        if (/^\d{6}$/.test(secret)) assert.ok(!log.includes(`${secret.slice(0, 3)}-${secret.slice(3)}`));
      }
      assert.ok(!log.includes(u.password) && !log.includes(admin.password));
    });
  });
}
