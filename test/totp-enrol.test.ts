import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import { ddpError, DdpTestClient } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { assertPngDataUrl, BACKUP_CODE, enrolOverRest, nextTotp, totpAt, wrongTotp } from './helpers/totp.ts';

const isLoggedIn = async (url: string, auth: { userId: string; authToken: string }) =>
  (await rest(url, 'GET', '/api/v1/me', { auth })).status === 200;

function assertBackupCodes(codes: unknown): void {
  assert.ok(Array.isArray(codes));
  assert.equal(codes.length, 12);
  for (const c of codes) assert.match(c, BACKUP_CODE);
  assert.equal(new Set(codes).size, 12);
}

for (const store of storesUnderTest) {
  describe(`authenticator app enrolment (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    before(async () => {
      t = await startTestServer({ store, clock });
    });
    after(() => t.close());

    it('enrols over DDP: nothing changes until 2fa:validateTempToken returns 12 backup codes, then other sessions end', async () => {
      await t.addUser({ username: 'dora', password: 'dora pw' });
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.loginWithPassword('dora', 'dora pw');
      const otherDdp = await DdpTestClient.open(t.wsUrl);
      await otherDdp.loginWithPassword('dora', 'dora pw');
      const otherRest = await restLogin(t.url, 'dora', 'dora pw');

      const started = await ddp.call('2fa:enable');
      assert.match(started.secret, /^[A-Z2-7]{32}$/);
      const url = new URL(started.url);
      assert.equal(`${url.protocol}//${url.host}${decodeURIComponent(url.pathname)}`, 'otpauth://totp/Twofold:dora');
      assert.equal(url.searchParams.get('secret'), started.secret);
      assert.equal(url.searchParams.get('issuer'), 'Twofold');
      assertPngDataUrl(started.qrCode);

      // Enrolment started but not finished: the user is exactly as before.
      assert.equal((await ddp.call('twofold:me')).services.totp.enabled, false);
      assert.equal((await ddpError(ddp.call('2fa:checkCodesRemaining'))).error, 'invalid-totp');
      assert.equal(await isLoggedIn(t.url, await restLogin(t.url, 'dora', 'dora pw')), true, 'login needs no code yet');

      const { codes } = await ddp.call('2fa:validateTempToken', nextTotp(clock, started.secret));
      assertBackupCodes(codes);
      assert.equal((await ddp.call('twofold:me')).services.totp.enabled, true, 'the caller stays logged in');
      assert.deepEqual(await ddp.call('2fa:checkCodesRemaining'), { remaining: 12 });
      assert.equal(await isLoggedIn(t.url, otherRest), false, 'a REST session elsewhere ended');
      assert.equal((await ddpError(otherDdp.call('twofold:me'))).error, 'unauthorized', 'another DDP connection ended');
      ddp.close();
      otherDdp.close();
    });

    it('enrols over REST the same way; the caller\'s token survives and the others do not', async () => {
      await t.addUser({ username: 'ezra', password: 'ezra pw' });
      const auth = await restLogin(t.url, 'ezra', 'ezra pw');
      const other = await restLogin(t.url, 'ezra', 'ezra pw');

      const started = await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth });
      assert.equal(started.status, 200);
      assert.equal(started.body.success, true);
      assert.ok(started.body.url.startsWith('otpauth://totp/Twofold:ezra?'));
      assert.equal(new URL(started.body.url).searchParams.get('secret'), started.body.secret);
      assertPngDataUrl(started.body.qrCode);
      const me = await rest(t.url, 'GET', '/api/v1/me', { auth });
      assert.deepEqual(me.body.services.totp, { enabled: false });

      const done = await rest(t.url, 'POST', '/api/v1/users.totp.validate', { auth, body: { code: nextTotp(clock, started.body.secret) } });
      assert.equal(done.status, 200);
      assert.equal(done.body.success, true);
      assertBackupCodes(done.body.codes);
      assert.deepEqual((await rest(t.url, 'GET', '/api/v1/me', { auth })).body.services.totp, { enabled: true });
      assert.equal(await isLoggedIn(t.url, other), false);
      const remaining = await rest(t.url, 'GET', '/api/v1/users.totp.codesRemaining', { auth });
      assert.deepEqual(remaining.body, { remaining: 12, success: true });
    });

    it('the enrolment code is accepted once: it cannot be replayed to log in', async () => {
      await t.addUser({ username: 'fay', password: 'fay pw' });
      const auth = await restLogin(t.url, 'fay', 'fay pw');
      const started = await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth });
      const code = nextTotp(clock, started.body.secret);
      assert.equal((await rest(t.url, 'POST', '/api/v1/users.totp.validate', { auth, body: { code } })).status, 200);
      const replay = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'fay', password: 'fay pw', code } });
      assert.equal(replay.status, 401);
      assert.equal(replay.body.error, 'totp-invalid');
      const fresh = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'fay', password: 'fay pw', code: nextTotp(clock, started.body.secret) } });
      assert.equal(fresh.status, 200);
    });

    it('enabling again after a finished enrolment is error-2fa-already-enabled at once (no code asked, as Rocket.Chat) on both transports, and changes nothing', async () => {
      await t.addUser({ username: 'gus', password: 'gus pw' });
      const auth = await restLogin(t.url, 'gus', 'gus pw');
      const { secret } = await enrolOverRest(t.url, auth, clock);
      const asked = await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth });
      assert.equal(asked.status, 400);
      assert.equal(asked.body.errorType, 'error-2fa-already-enabled', 'the state error comes before the step-up');
      const again = await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth, headers: { 'x-2fa-code': nextTotp(clock, secret), 'x-2fa-method': 'totp' } });
      assert.equal(again.status, 400);
      assert.equal(again.body.errorType, 'error-2fa-already-enabled');
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.loginWithPassword('gus', 'gus pw', nextTotp(clock, secret));
      const viaDdp = await ddpError(ddp.call('2fa:enable', { twoFactorCode: nextTotp(clock, secret), twoFactorMethod: 'totp' }));
      assert.equal(viaDdp.error, 'error-2fa-already-enabled');
      ddp.close();
      // The secret in use is still the first one.
      const login = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'gus', password: 'gus pw', code: nextTotp(clock, secret) } });
      assert.equal(login.status, 200);
    });

    it('a user with email codes must give one before enrolling an app (a stolen session cannot lock the owner out)', async () => {
      await t.addUser({ username: 'gil', password: 'gil pw', email: 'gil@example.com', email2fa: true });
      const code = await t.mail.nextCode('gil@example.com', async () => {
        const first = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'gil', password: 'gil pw' } });
        assert.equal(first.body.error, 'totp-required');
      });
      const auth = await restLogin(t.url, 'gil', 'gil pw', code);
      const enrolCode = await t.mail.nextCode('gil@example.com', async () => {
        const asked = await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth });
        assert.equal(asked.status, 400);
        assert.equal(asked.body.errorType, 'totp-required');
        assert.equal(asked.body.details.method, 'email');
      });
      const started = await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth, headers: { 'x-2fa-code': enrolCode, 'x-2fa-method': 'email' } });
      assert.equal(started.status, 200);
      assertPngDataUrl(started.body.qrCode);
    });

    it('enabling twice before validating replaces the pending secret: only the newest one validates', async () => {
      await t.addUser({ username: 'hal', password: 'hal pw' });
      const auth = await restLogin(t.url, 'hal', 'hal pw');
      const first = (await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth })).body.secret;
      const second = (await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth })).body.secret;
      assert.notEqual(first, second);
      const stale = await rest(t.url, 'POST', '/api/v1/users.totp.validate', { auth, body: { code: nextTotp(clock, first) } });
      assert.equal(stale.body.errorType, 'invalid-totp');
      const ok = await rest(t.url, 'POST', '/api/v1/users.totp.validate', { auth, body: { code: nextTotp(clock, second) } });
      assert.equal(ok.status, 200);
    });

    it('bad enrolment input gets documented errors, changes nothing, and the server stays up', async () => {
      await t.addUser({ username: 'ida', password: 'ida pw' });
      const auth = await restLogin(t.url, 'ida', 'ida pw');
      const validate = (body: unknown) => rest(t.url, 'POST', '/api/v1/users.totp.validate', { auth, body });

      const noEnrolment = await validate({ code: '123456' });
      assert.equal(noEnrolment.status, 400);
      assert.equal(noEnrolment.body.errorType, 'invalid-totp');
      for (const path of ['/api/v1/users.totp.disable', '/api/v1/users.totp.regenerateCodes']) {
        const off = await rest(t.url, 'POST', path, { auth, body: { code: '123456' } });
        assert.equal(off.body.errorType, 'invalid-totp', `${path} while off`);
      }
      assert.equal((await rest(t.url, 'GET', '/api/v1/users.totp.codesRemaining', { auth })).body.errorType, 'invalid-totp');

      const { secret } = (await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth })).body;
      clock.advance(30);
      const good = totpAt(secret, clock.now());
      const wrong = ['abcdef', '12a456', good.slice(1), `${good}0`, ` ${good}`, `${good} `, `${good.slice(0, 3)} ${good.slice(3)}`,
        totpAt(secret, clock.now(), 8), wrongTotp(secret, clock.now())];
      for (const code of wrong) {
        const res = await validate({ code });
        assert.equal(res.status, 400, JSON.stringify(code));
        assert.equal(res.body.errorType, 'invalid-totp', JSON.stringify(code));
      }
      const shapes: [unknown, string][] = [
        [{}, 'error-parameter-required'],
        [{ code: '' }, 'error-invalid-params'],
        [{ code: 'x'.repeat(10_000) }, 'error-invalid-params'],
        [{ code: { $ne: null } }, 'error-invalid-params'],
        [{ code: ['123456'] }, 'error-invalid-params'],
        [{ code: -1 }, 'error-invalid-params'],
        [{ code: good, extra: 1 }, 'invalid-params'],
      ];
      for (const [body, errorType] of shapes) {
        const res = await validate(body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.errorType, errorType, JSON.stringify(body));
      }
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.loginWithPassword('ida', 'ida pw');
      assert.equal((await ddpError(ddp.call('2fa:validateTempToken', 'abcdef'))).error, 'invalid-totp');
      assert.equal((await ddpError(ddp.call('2fa:validateTempToken'))).error, 'error-parameter-required');
      assert.equal((await ddpError(ddp.call('2fa:disable', '123456'))).error, 'invalid-totp', 'disable while off');
      ddp.close();

      const unauthenticated = await rest(t.url, 'POST', '/api/v1/users.totp.enable');
      assert.equal(unauthenticated.status, 401);
      assert.equal((await rest(t.url, 'GET', '/api/info')).status, 200);
      // The wrong codes spent the failure budget and burnt the pending secret
      // (TWOFOLD_TOTP_ENROL_MAX_ATTEMPTS); once the window has room, a new enrolment completes.
      assert.deepEqual((await rest(t.url, 'GET', '/api/v1/me', { auth })).body.services.totp, { enabled: false });
      clock.advance(t.server.app.settings.failureWindow + 1);
      assert.equal((await validate({ code: totpAt(secret, clock.now()) })).body.errorType, 'invalid-totp', 'the burnt secret');
      const again = (await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth })).body.secret as string;
      clock.advance(30);
      const done = await validate({ code: totpAt(again, clock.now()) });
      assert.equal(done.status, 200, JSON.stringify(done.body));
    });

    it('a database dump holds no usable TOTP secret and only keyed hashes of backup codes', async () => {
      const user = await t.addUser({ username: 'jo', password: 'jo pw' });
      const auth = await restLogin(t.url, 'jo', 'jo pw');
      const { secret, codes } = await enrolOverRest(t.url, auth, clock);

      const row = await t.server.app.store.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
      assert.equal(row.totp_enabled, 1);
      assert.equal(row.totp_pending_secret, null);
      assert.ok(row.totp_secret && !row.totp_secret.includes(secret), 'the secret is not stored as is');
      assert.doesNotMatch(row.totp_secret, /^[A-Z2-7]+=*$/, 'nor as any base32 text');
      assert.ok(!Buffer.from(row.totp_secret).toString('base64').includes(Buffer.from(secret).toString('base64')));
      const hashes = await t.server.app.store.db.selectFrom('backup_codes').select('code_hash').where('user_id', '=', user.id).execute();
      assert.equal(hashes.length, 12);
      const dump = JSON.stringify({ row, hashes });
      for (const c of codes) assert.ok(!dump.includes(c), 'no backup code appears in the rows');
      assert.ok(hashes.every((h) => h.code_hash.length >= 43), 'each is a 256-bit keyed hash');

      if (store === 'sqlite') {
        // The files themselves, WAL included, as a stolen disk would show them.
        for (const name of readdirSync(t.dataDir).filter((n) => n.startsWith('twofold.db'))) {
          const bytes = readFileSync(join(t.dataDir, name));
          assert.equal(bytes.indexOf(secret), -1, `${name} does not contain the secret`);
          for (const c of codes) assert.equal(bytes.indexOf(c), -1, `${name} does not contain a backup code`);
        }
      }
    });
  });

  describe(`authenticator apps switched off (${store})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store, settings: { totpEnabled: false } });
    });
    after(() => t.close());

    it('enrolment is refused with error-not-allowed on both transports', async () => {
      await t.addUser({ username: 'kai', password: 'kai pw' });
      const auth = await restLogin(t.url, 'kai', 'kai pw');
      const res = await rest(t.url, 'POST', '/api/v1/users.totp.enable', { auth });
      assert.equal(res.status, 403);
      assert.equal(res.body.errorType, 'error-not-allowed');
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.loginWithPassword('kai', 'kai pw');
      assert.equal((await ddpError(ddp.call('2fa:enable'))).error, 'error-not-allowed');
      ddp.close();
    });
  });
}
