// Two server processes on one PostgreSQL database, with one server key and the production
// limits: whatever one instance knows — a code it sent, a limit it counted, a success it
// remembers — the other honours.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { FakeClock } from '../src/core/clock.ts';
import { createUser } from '../src/operations/shared/accounts.ts';
import { spawnServer, type ChildServer } from './helpers/child.ts';
import { ddpError, DdpTestClient, sha256 } from './helpers/ddp.ts';
import { withDirectApp } from './helpers/direct.ts';
import { loginAttempt, rest, restLogin } from './helpers/rest.ts';
import { MailCatcher } from './helpers/smtp.ts';
import { totpAt } from './helpers/totp.ts';
import { seedPool } from '../bench/lib/seed.ts';
import { freshPostgresDatabase } from './helpers/stores.ts';

const login = loginAttempt;

if (!process.env.TEST_DATABASE_URL) {
  describe('two instances on one PostgreSQL', () => {
    it('needs TEST_DATABASE_URL (CI must set it)', (t) => {
      if (process.env.CI) assert.fail('CI is set but TEST_DATABASE_URL is not: the two-instance test cannot be skipped in CI');
      t.skip('TEST_DATABASE_URL is not set');
    });
  });
} else {
  describe('two instances on one PostgreSQL', () => {
    let mail: MailCatcher;
    let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
    const dirs: string[] = [];
    let a: ChildServer;
    let b: ChildServer;
    let shared: { databaseUrl: string; secretKey: string; smtpUrl: string };

    before(async () => {
      mail = await new MailCatcher().start();
      db = await freshPostgresDatabase();
      const secretKey = randomBytes(32).toString('base64');
      shared = { databaseUrl: db.url, secretKey, smtpUrl: mail.url };
      dirs.push(mkdtempSync(join(tmpdir(), 'twofold-seed-')));
      // Made an hour ago, so the new-account grace period is over.
      const anHourAgo = new FakeClock(Date.now() - 3_600_000);
      await withDirectApp({ ...shared, dataDir: dirs[0]! }, async (app) => {
        for (const username of ['ann', 'bob', 'cat', 'dan', 'eve', 'fin', 'gus', 'hal']) {
          await createUser(app, { username, email: `${username}@example.com`, verified: true, password: { plain: `${username} pw` }, email2fa: !['dan', 'fin', 'gus', 'hal'].includes(username) });
        }
      }, anHourAgo);
      const env = (dir: string) => ({
        TWOFOLD_DATA_DIR: dir, DATABASE_URL: db.url, TWOFOLD_SECRET_KEY: secretKey, TWOFOLD_SMTP_URL: mail.url,
        TWOFOLD_ARGON2_MEMORY_KIB: '1024', TWOFOLD_ARGON2_ITERATIONS: '1',
      });
      dirs.push(mkdtempSync(join(tmpdir(), 'twofold-a-')), mkdtempSync(join(tmpdir(), 'twofold-b-')));
      [a, b] = await Promise.all([spawnServer(env(dirs[1]!)), spawnServer(env(dirs[2]!))]);
    });

    after(async () => {
      for (const s of [a, b]) {
        if (s && s.proc.exitCode === null) {
          s.proc.kill('SIGTERM');
          await s.exited;
        }
      }
      await mail?.close();
      await db?.drop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it('runs two separate processes', () => {
      assert.notEqual(a.proc.pid, b.proc.pid);
      assert.notEqual(a.url, b.url);
    });

    it('a code sent through one instance is accepted by the other', async () => {
      let asked: any;
      const code = await mail.nextCode('ann@example.com', async () => { asked = await login(a.url, 'ann', 'ann pw'); });
      assert.equal(asked.body.error, 'totp-required');
      assert.equal(asked.body.details.codeGenerated, true);
      const viaB = await login(b.url, 'ann', 'ann pw', code);
      assert.equal(viaB.status, 200);
      // …and consumed there: A does not take it again.
      assert.equal((await login(a.url, 'ann', 'ann pw', code)).body.error, 'totp-invalid');
    });

    it('a send limit reached on one instance holds on the other', async () => {
      assert.equal((await rest(a.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: 'bob' } })).status, 200);
      const refused = await rest(b.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: 'bob' } });
      assert.equal(refused.status, 429);
      assert.equal(refused.body.errorType, 'error-too-many-requests');
      assert.ok(refused.body.details.timeToReset >= 1 && refused.body.details.timeToReset <= 60, String(refused.body.details.timeToReset));
      assert.equal(refused.headers.get('x-ratelimit-limit'), '1');
    });

    it('a sign-up flood split over both instances gets no more accounts or mails than the per-address limit', async () => {
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) =>
        rest(i % 2 ? a.url : b.url, 'POST', '/api/v1/users.register', { body: { username: `split${i}`, email: `split${i}@example.com`, pass: 'pw' } })));
      assert.equal(answers.filter((r) => r.status === 200).length, 10);
      assert.ok(answers.every((r) => r.status === 200 || r.body.errorType === 'error-too-many-requests'));
      assert.equal(mail.messages.filter((m) => m.to.some((to) => to.startsWith('split'))).length, 10);
    });

    it('a login block and a 2FA lockout reached on one instance hold on the other', async () => {
      for (let i = 0; i < 10; i++) assert.equal((await login(a.url, 'cat', `guess ${i}`)).body.error, 'Unauthorized');
      assert.equal((await login(b.url, 'cat', 'cat pw')).body.error, 'error-login-blocked-for-user');

      const live = await mail.nextCode('eve@example.com', () => login(b.url, 'eve', 'eve pw'));
      const wrong = live === '000000' ? '111111' : '000000';
      for (let i = 0; i < 10; i++) await login(a.url, 'eve', 'eve pw', wrong);
      assert.equal((await login(b.url, 'eve', 'eve pw', live)).body.error, 'totp-max-attempts', 'B counts the failures made on A');
    });

    it('300 concurrent wrong codes split across both instances get at most 10 checks', async () => {
      const session = (await login(a.url, 'fin', 'fin pw')).body.data;
      const auth = { userId: session.userId, authToken: session.authToken };
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => rest(i % 2 ? a.url : b.url, 'POST', '/api/v1/users.updateOwnBasicInfo', {
        auth, body: { data: { name: `guess ${i}` } }, headers: { 'x-2fa-method': 'password', 'x-2fa-code': sha256(`guess ${i}`) },
      })));
      const errors = results.reduce<Record<string, number>>((o, r) => ({ ...o, [r.body.errorType]: (o[r.body.errorType] ?? 0) + 1 }), {});
      assert.deepEqual(errors, { 'totp-invalid': 10, 'totp-max-attempts': 290 });
      // Each check that reached argon2 left one audit event, whichever instance made it.
      const audit = new pg.Client({ connectionString: db.url });
      await audit.connect();
      try {
        const { rows } = await audit.query("SELECT count(*)::int AS n FROM audit_events WHERE user_id = $1 AND event = '2fa-failure'", [session.userId]);
        assert.equal(rows[0].n, 10);
      } finally {
        await audit.end();
      }
    });

    /** 300 calls with one code, split over both instances, each from a client of its own (no remembered success applies). */
    async function burstOneCode(seeded: { userId: string; token: string }, headers: Record<string, string>) {
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => rest(i % 2 ? a.url : b.url, 'POST', '/api/v1/users.updateOwnBasicInfo', {
        auth: { userId: seeded.userId, authToken: seeded.token }, body: { data: {} }, headers: { ...headers, 'user-agent': `burst client ${i}` },
      })));
      return results.reduce<Record<string, number>>((o, r) => {
        const k = r.status === 200 ? 'ok' : String(r.body.errorType);
        return { ...o, [k]: (o[k] ?? 0) + 1 };
      }, {});
    }

    it('one TOTP code sent 300 times at once over both instances passes once; the replays spend the failure budget', async () => {
      const [u] = await withDirectApp({ ...shared, dataDir: dirs[0]! }, (app) => seedPool(app, 'totp', 1, 'twin-totp'));
      const tally = await burstOneCode(u!, { 'x-2fa-code': totpAt(u!.secret!, Date.now()) });
      assert.deepEqual(tally, { ok: 1, 'totp-invalid': 10, 'totp-max-attempts': 289 });
    });

    it('one email code sent 300 times at once over both instances passes once; the losers burn it', async () => {
      const [u] = await withDirectApp({ ...shared, dataDir: dirs[0]! }, (app) => seedPool(app, 'email', 1, 'twin-email'));
      const tally = await burstOneCode(u!, { 'x-2fa-code': u!.code!, 'x-2fa-method': 'email' });
      // 5 tries per code: the 4 after the success are wrong, then the code is gone.
      assert.deepEqual(tally, { ok: 1, 'totp-invalid': 4, 'totp-max-attempts': 295 });
    });

    it('a success remembered on one instance is honoured by the other for the same token and client', async () => {
      const session = (await login(a.url, 'dan', 'dan pw')).body.data;
      const auth = { userId: session.userId, authToken: session.authToken };
      const rename = (url: string, name: string, headers: Record<string, string> = {}) =>
        rest(url, 'POST', '/api/v1/users.updateOwnBasicInfo', { auth, body: { data: { name } }, headers: { 'user-agent': 'twofold-test', ...headers } });
      assert.equal((await rename(a.url, 'Dan')).body.errorType, 'totp-required');
      const confirmed = await rename(a.url, 'Dan A', { 'x-2fa-method': 'password', 'x-2fa-code': sha256('dan pw') });
      assert.equal(confirmed.status, 200);
      const onB = await rename(b.url, 'Dan B');
      assert.equal(onB.status, 200, JSON.stringify(onB.body));
      assert.equal(onB.body.user.name, 'Dan B');
      assert.equal((await rename(b.url, 'Dan C', { 'user-agent': 'another browser' })).body.errorType, 'totp-required', 'another client is asked');
    });

    it('a token logged out on one instance is refused at the next call on the other, which had its session in memory', async () => {
      const auth = await restLogin(a.url, 'gus', 'gus pw');
      const me = (url: string) => rest(url, 'GET', '/api/v1/me', { auth });
      assert.equal((await me(b.url)).status, 200);
      assert.equal((await me(b.url)).status, 200);
      const ddp = await DdpTestClient.open(`${b.url.replace(/^http/, 'ws')}/websocket`);
      await ddp.call('login', { resume: auth.authToken });
      assert.equal((await ddp.call('twofold:me')).username, 'gus');

      assert.equal((await rest(a.url, 'POST', '/api/v1/logout', { auth })).status, 200);
      assert.equal((await me(b.url)).status, 401);
      assert.equal((await ddpError(ddp.call('twofold:me'))).error, 'unauthorized');
      ddp.close();
    });

    it('of calls racing a logout on both instances, none that starts after the logout was answered succeeds', async () => {
      const auth = await restLogin(a.url, 'hal', 'hal pw');
      const calls: Promise<{ started: number; status: number }>[] = [];
      const launch = () => {
        const started = performance.now();
        calls.push(rest(calls.length % 2 ? a.url : b.url, 'GET', '/api/v1/me', { auth }).then((r) => ({ started, status: r.status })));
      };
      for (let i = 0; i < 150; i++) launch();
      let answeredAt = Infinity;
      const logout = rest(a.url, 'POST', '/api/v1/logout', { auth }).then((r) => { answeredAt = performance.now(); return r; });
      // Calls keep starting while the logout is on its way, and 150 more once it is answered.
      while (answeredAt === Infinity && calls.length < 2000) {
        launch();
        await new Promise((resolve) => setImmediate(resolve));
      }
      for (let i = 0; i < 150; i++) launch();
      assert.equal((await logout).status, 200);
      const results = await Promise.all(calls);
      const late = results.filter((r) => r.started > answeredAt);
      assert.ok(late.length >= 150);
      assert.deepEqual(late.filter((r) => r.status !== 401), []);
      assert.ok(results.every((r) => r.status === 200 || r.status === 401), JSON.stringify(results.filter((r) => r.status !== 200 && r.status !== 401)));
      assert.ok(results.some((r) => r.status === 200), 'calls made before the logout passed');
    });
  });
}
