// The audit trail: every second-factor event and login with user, time, transport and
// client address; readable by admins over REST and with `twofold audit`; never a secret.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import { runCli } from './helpers/cli.ts';
import { DdpTestClient, sha256 } from './helpers/ddp.ts';
import { productionLimits } from './helpers/limits.ts';
import { loginAttempt, rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { enrolOverRest, nextTotp, totpAt, wrongTotp } from './helpers/totp.ts';

const login = loginAttempt;

for (const store of storesUnderTest) {
  describe(`audit trail (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    let admin: { userId: string; authToken: string };
    before(async () => {
      t = await startTestServer({ store, clock, settings: productionLimits });
      await t.addUser({ username: 'boss', password: 'boss pw', roles: ['user', 'admin'] });
      admin = await restLogin(t.url, 'boss', 'boss pw');
    });
    after(() => t.close());

    const trail = async (userId: string, query = '') => {
      const res = await rest(t.url, 'GET', `/api/v1/audit.2fa?userId=${userId}&count=100${query}`, { auth: admin });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };

    it('records every kind of event with user, time, transport and client address, and no code, password, token or secret', async () => {
      const user = await t.addUser({ username: 'ava', password: 'ava pw' });
      const secrets: string[] = ['ava pw', sha256('ava pw')];
      const auth = await restLogin(t.url, 'ava', 'ava pw');
      secrets.push(auth.authToken);
      assert.equal((await rest(t.url, 'POST', '/api/v1/users.2fa.enableEmail', { auth })).status, 200);
      const code = await t.mail.nextCode('ava@example.com', () => login(t.url, 'ava', 'ava pw'));
      secrets.push(code);
      const wrong = code === '000000' ? '111111' : '000000';
      assert.equal((await login(t.url, 'ava', 'ava pw', wrong)).body.error, 'totp-invalid');
      const ok = await login(t.url, 'ava', 'ava pw', code);
      assert.equal(ok.status, 200);
      secrets.push(ok.body.data.authToken);
      assert.equal((await login(t.url, 'ava', 'not it')).status, 401);
      // Over DDP: a code asked for twice too soon, then the authenticator app.
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.call('login', { resume: auth.authToken });
      await ddp.call('sendEmailCode', 'ava');
      await assert.rejects(ddp.call('sendEmailCode', 'ava'));
      ddp.close();
      clock.advance(60);
      const disable = await t.mail.nextCode('ava@example.com', () => rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: 'ava' } }));
      secrets.push(disable);
      assert.equal((await rest(t.url, 'POST', '/api/v1/users.2fa.disableEmail', { auth, headers: { 'x-2fa-code': disable } })).status, 200);
      const { secret, codes } = await enrolOverRest(t.url, auth, clock);
      secrets.push(secret, ...codes);
      const step = nextTotp(clock, secret);
      assert.equal((await login(t.url, 'ava', 'ava pw', step)).status, 200);
      assert.equal((await login(t.url, 'ava', 'ava pw', step)).body.error, 'totp-invalid', 'a replay');
      const regenerated = await rest(t.url, 'POST', '/api/v1/users.totp.regenerateCodes', { auth, body: { code: codes[0] } });
      assert.equal(regenerated.status, 200);
      secrets.push(...regenerated.body.codes);
      for (let i = 0; i < 9; i++) await login(t.url, 'ava', 'ava pw', wrongTotp(secret, clock.now()));
      assert.equal((await login(t.url, 'ava', 'ava pw', totpAt(secret, clock.now()))).body.error, 'totp-max-attempts');
      for (let i = 0; i < 10; i++) await login(t.url, 'ava', `guess ${i}`);
      assert.equal((await login(t.url, 'ava', 'ava pw')).body.error, 'error-login-blocked-for-user');

      const page = await trail(user.id);
      const kinds = new Set(page.events.map((e: any) => e.event));
      for (const kind of ['method-enabled', 'code-sent', '2fa-failure', '2fa-success', 'login-success', 'login-failure', 'rate-limited',
        'method-disabled', 'totp-replay', 'backup-codes-regenerated', 'lockout', 'login-blocked']) {
        assert.ok(kinds.has(kind), `${kind} is recorded (got ${[...kinds].join(', ')})`);
      }
      for (const e of page.events) {
        assert.equal(e.userId, user.id);
        assert.equal(e.username, 'ava');
        assert.match(e.clientAddress, /^(::ffff:)?127\.0\.0\.1$|^::1$/);
        assert.ok(['rest', 'ddp'].includes(e.transport));
        assert.equal(typeof e._id, 'string');
        assert.ok(!Number.isNaN(Date.parse(e.ts)));
      }
      const rateLimited = page.events.find((e: any) => e.event === 'rate-limited');
      assert.equal(rateLimited.transport, 'ddp');
      assert.equal(rateLimited.details.limit, 'send-code-explicit', 'the interval between two explicit requests');
      const backup = page.events.find((e: any) => e.event === '2fa-success' && e.details.backupCode === true);
      assert.ok(backup, 'a backup code success says so, without the code');
      const enabled = page.events.filter((e: any) => e.event === 'method-enabled').map((e: any) => e.method).sort();
      assert.deepEqual(enabled, ['email', 'totp']);
      // Newest first, in the order things happened.
      assert.equal(page.events[0].event, 'login-blocked');
      assert.equal(page.events.at(-1).event, 'login-success');
      const text = JSON.stringify(page);
      for (const s of secrets) assert.ok(!text.includes(s), 'no secret in the trail');
      const dump = JSON.stringify(await t.server.app.store.db.selectFrom('audit_events').selectAll().execute());
      for (const s of secrets) assert.ok(!dump.includes(s), 'no secret in the table');
    });

    it('pages newest first with offset, count and total; count is capped at 100', async () => {
      const user = await t.addUser({ username: 'bea', password: 'bea pw' });
      for (let i = 0; i < 7; i++) await login(t.url, 'bea', `wrong ${i}`);
      const all = await trail(user.id);
      assert.equal(all.total, 7);
      assert.equal(all.count, 7);
      assert.equal(all.offset, 0);
      assert.equal(all.success, true);
      const page = await rest(t.url, 'GET', `/api/v1/audit.2fa?userId=${user.id}&offset=2&count=3`, { auth: admin });
      assert.deepEqual(page.body.events.map((e: any) => e._id), all.events.slice(2, 5).map((e: any) => e._id));
      assert.equal(page.body.total, 7);
      assert.equal(page.body.count, 3);
      for (let i = 0; i < 105; i++) await t.server.app.engineDeps.audit!({ event: 'code-sent', userId: user.id, method: 'email' });
      const capped = await rest(t.url, 'GET', `/api/v1/audit.2fa?userId=${user.id}&count=1000`, { auth: admin });
      assert.equal(capped.body.count, 100);
      assert.equal(capped.body.total, 112);
      const everyone = await rest(t.url, 'GET', '/api/v1/audit.2fa', { auth: admin });
      assert.equal(everyone.body.count, 50, 'the default page');
      assert.ok(everyone.body.total >= 112);
    });

    it('only admins read it: 401 without a login, 403 error-unauthorized for a user (as Rocket.Chat); bad paging is error-invalid-params', async () => {
      await t.addUser({ username: 'cyd', password: 'cyd pw' });
      const auth = await restLogin(t.url, 'cyd', 'cyd pw');
      assert.equal((await rest(t.url, 'GET', '/api/v1/audit.2fa')).status, 401);
      const denied = await rest(t.url, 'GET', '/api/v1/audit.2fa', { auth });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.errorType, 'error-unauthorized');
      assert.equal(denied.body.error, 'User does not have the permissions required for this action [error-unauthorized]');
      for (const q of ['offset=-1', 'count=ten', 'userId=', 'sort=at']) {
        const bad = await rest(t.url, 'GET', `/api/v1/audit.2fa?${q}`, { auth: admin });
        assert.equal(bad.status, 400, q);
        assert.ok(['error-invalid-params', 'error-parameter-required', 'invalid-params'].includes(bad.body.errorType), q);
      }
    });

    it('`twofold audit` prints the newest events of a user, oldest first', async () => {
      const user = await t.addUser({ username: 'dot', password: 'dot pw' });
      await login(t.url, 'dot', 'wrong');
      await restLogin(t.url, 'dot', 'dot pw');
      const env: Record<string, string> = { TWOFOLD_DATA_DIR: t.dataDir };
      if (t.server.app.settings.databaseUrl) env.DATABASE_URL = t.server.app.settings.databaseUrl;
      const out = await runCli(['audit', '--user', 'dot', '--limit', '5'], env);
      assert.equal(out.code, 0, out.stderr);
      const lines = out.stdout.trim().split('\n');
      assert.equal(lines.length, 2);
      assert.match(lines[0]!, /^\S+Z\s+login-failure\s+dot\s+-\s+rest\s+\S+\s+reason=password$/);
      assert.match(lines[1]!, /login-success\s+dot/);
      assert.ok(!out.stdout.includes('dot pw'));
      const unknown = await runCli(['audit', '--user', 'nobody'], env);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /no user named nobody/);
      void user;
    });
  });
}
