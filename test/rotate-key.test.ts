// `twofold rotate-key`: TOTP secrets move to the new server key and keep working; keyed
// hashes that cannot move (backup and email codes) are dropped; an interrupted rotation
// finishes when run again.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cryptoRandom } from '../src/core/random.ts';
import { ServerKeys } from '../src/core/secrets.ts';
import { hashBackupCode } from '../src/core/twofactor/backup-codes.ts';
import { newTotpSecret } from '../src/core/twofactor/totp.ts';
import { createUser } from '../src/operations/shared/accounts.ts';
import { startFromEnvironment } from '../src/start.ts';
import { rotateKeyedData } from '../src/store/key-rotation.ts';
import { runCli } from './helpers/cli.ts';
import { withDirectApp } from './helpers/direct.ts';
import { rest } from './helpers/rest.ts';
import { scratchDir } from './helpers/scratch.ts';
import { freshPostgresDatabase, storesUnderTest } from './helpers/stores.ts';
import { totpAt } from './helpers/totp.ts';

const BACKUP = 'ABCD2345';

for (const store of storesUnderTest) {
  describe(`server key rotation (${store})`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    after(async () => { for (const c of cleanups.reverse()) await c(); });

    /** A data dir (and database) with one TOTP user, a backup code and a live email code. */
    async function world(secretKey?: string) {
      const dataDir = scratchDir('twofold-rotate-');
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const pg = store === 'postgres' ? await freshPostgresDatabase() : null;
      if (pg) cleanups.push(() => pg.drop());
      const env: Record<string, string> = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_ARGON2_MEMORY_KIB: '1024', TWOFOLD_ARGON2_ITERATIONS: '1' };
      if (pg) env.DATABASE_URL = pg.url;
      if (secretKey) env.TWOFOLD_SECRET_KEY = secretKey;
      const secret = newTotpSecret(cryptoRandom);
      await withDirectApp({ dataDir, databaseUrl: pg?.url, secretKey }, async (app) => {
        const user = await createUser(app, { username: 'tim', email: 'tim@example.com', verified: true, password: { plain: 'tim pw' } });
        await app.store.users.update(user.id, { totpEnabled: true, totpSecret: app.keys.encrypt(secret, cryptoRandom) });
        await app.store.twoFactor.replaceBackupCodes(user.id, [hashBackupCode(app.keys, user.id, BACKUP)]);
        await app.store.twoFactor.addEmailCode(user.id, { id: 'c1', codeHash: app.keys.hashCode(user.id, '123456'), createdAt: Date.now(), expiresAt: Date.now() + 600_000 }, 5, Date.now());
      });
      return { dataDir, env, secret, pgUrl: pg?.url };
    }

    /**
     * Starts a server on the data, from the environment as `twofold serve` does (in this
     * process: what is tested is the data and the key, not the process), and checks the
     * authenticator still logs in and the backup code does not.
     */
    async function assertTotpWorks(env: Record<string, string>, secret: string) {
      const server = await startFromEnvironment({ ...env, HOST: '127.0.0.1', PORT: '0', TWOFOLD_LOG_LEVEL: 'silent' }, (line) => assert.fail(line));
      assert.ok(!('exitCode' in server));
      try {
        const backup = await rest(server.url, 'POST', '/api/v1/login', { body: { user: 'tim', password: 'tim pw', code: BACKUP } });
        assert.equal(backup.body.error, 'totp-invalid', 'backup codes were dropped');
        const ok = await rest(server.url, 'POST', '/api/v1/login', { body: { user: 'tim', password: 'tim pw', code: totpAt(secret, Date.now()) } });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
      } finally {
        await server.close();
      }
    }

    it('with a key file: writes a new key (mode 0600), re-encrypts the TOTP secret, drops backup and email codes', async () => {
      const w = await world();
      const keyFile = join(w.dataDir, 'server.key');
      const before = readFileSync(keyFile, 'utf8');
      const out = await runCli(['rotate-key'], w.env);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /re-encrypted 1 TOTP secret\(s\); dropped the backup codes of 1 user\(s\) and 1 live email code\(s\)/);
      assert.notEqual(readFileSync(keyFile, 'utf8'), before);
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      assert.ok(!existsSync(join(w.dataDir, 'server.key.new')));
      await withDirectApp({ dataDir: w.dataDir, databaseUrl: w.pgUrl }, async (app) => {
        const user = (await app.store.users.byUsername('tim'))!;
        assert.equal(app.keys.decrypt(user.totpSecret!), w.secret);
        assert.equal(await app.store.twoFactor.countBackupCodes(user.id), 0);
        assert.equal((await app.store.twoFactor.liveEmailCodes(user.id, Date.now())).length, 0);
        assert.throws(() => new ServerKeys(Buffer.from(before.trim(), 'base64')).decrypt(user.totpSecret!), 'the old key no longer opens it');
      });
      await assertTotpWorks(w.env, w.secret);
    });

    it('with TWOFOLD_SECRET_KEY: needs TWOFOLD_NEW_SECRET_KEY, then re-encrypts under it', async () => {
      const oldKey = randomBytes(32).toString('base64');
      const newKey = randomBytes(32).toString('base64');
      const w = await world(oldKey);
      const refused = await runCli(['rotate-key'], w.env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /TWOFOLD_NEW_SECRET_KEY/);
      const out = await runCli(['rotate-key'], { ...w.env, TWOFOLD_NEW_SECRET_KEY: newKey });
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /set TWOFOLD_SECRET_KEY to the value of TWOFOLD_NEW_SECRET_KEY/);
      assert.ok(!out.stdout.includes(newKey) && !out.stdout.includes(oldKey), 'keys are never printed');
      await assertTotpWorks({ ...w.env, TWOFOLD_SECRET_KEY: newKey }, w.secret);
    });

    it('a rotation interrupted after the database changed finishes when run again', async () => {
      const w = await world();
      const oldKey = Buffer.from(readFileSync(join(w.dataDir, 'server.key'), 'utf8').trim(), 'base64');
      const newKey = randomBytes(32);
      // As if the first run wrote server.key.new, committed, and died before the rename.
      writeFileSync(join(w.dataDir, 'server.key.new'), `${newKey.toString('base64')}\n`, { mode: 0o600 });
      await withDirectApp({ dataDir: w.dataDir, databaseUrl: w.pgUrl }, async (app) => {
        const [oldKeys, newKeys] = [new ServerKeys(oldKey), new ServerKeys(newKey)];
        await rotateKeyedData(app.store.db, (sealed) => newKeys.encrypt(oldKeys.decrypt(sealed), cryptoRandom));
      });
      const out = await runCli(['rotate-key'], w.env);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(readFileSync(join(w.dataDir, 'server.key'), 'utf8').trim(), newKey.toString('base64'));
      await assertTotpWorks(w.env, w.secret);
    });
  });
}
