import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderSettingsDoc } from './docs.ts';
import { loadSettings, SettingError, settingsTable } from './settings.ts';

describe('settings', () => {
  it('defaults are the documented ones', () => {
    const s = loadSettings({});
    assert.equal(s.port, 3000);
    assert.equal(s.host, '127.0.0.1');
    assert.equal(s.dataDir, './data');
    assert.equal(s.databaseUrl, undefined);
    assert.equal(s.smtpUrl, undefined);
    assert.equal(s.rememberFor, 1800);
    assert.equal(s.emailCodeTtl, 600);
    assert.equal(s.emailCodeMaxLive, 5);
    assert.equal(s.maxBodyBytes, 102_400);
    assert.equal(s.totpMaxDelta, 1);
    assert.equal(s.loginTokenTtl, 90 * 86_400);
    assert.deepEqual(s.messageOperations2fa, []);
    assert.equal(s.sessionCacheSize, 10_000);
    assert.equal(s.sessionCacheMaxAge, 60);
  });

  it('reads values from the environment', () => {
    const s = loadSettings({ PORT: '8080', TWOFOLD_REMEMBER_FOR: '0', TWOFOLD_2FA_ENABLED: 'off', TWOFOLD_MESSAGE_OPERATIONS_2FA: 'pinMessage, updateMessage', DATABASE_URL: 'postgres://u@h/db' });
    assert.equal(s.port, 8080);
    assert.equal(s.rememberFor, 0);
    assert.equal(s.twoFactorEnabled, false);
    assert.deepEqual(s.messageOperations2fa, ['pinMessage', 'updateMessage']);
    assert.equal(s.databaseUrl, 'postgres://u@h/db');
  });

  it('a bad value names the setting and what is wrong', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORT: 'abc' }, /PORT: "abc" is not a whole number/],
      [{ PORT: '70000' }, /PORT: 70000 is outside 0..65535/],
      [{ TWOFOLD_REMEMBER_FOR: '-1' }, /TWOFOLD_REMEMBER_FOR/],
      [{ TWOFOLD_2FA_ENABLED: 'maybe' }, /TWOFOLD_2FA_ENABLED: "maybe" is not true\/false/],
      [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: \(value hidden\) is not a postgres:\/\/ URL/],
      [{ TWOFOLD_MESSAGE_OPERATIONS_2FA: 'dropTables' }, /TWOFOLD_MESSAGE_OPERATIONS_2FA: "dropTables" is not one of/],
      [{ TWOFOLD_SECRET_KEY: 'short' }, /TWOFOLD_SECRET_KEY/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadSettings(env), (e: unknown) => e instanceof SettingError && message.test(e.message), JSON.stringify(env));
    }
  });

  it('every bad value is reported at once, not just the first', () => {
    assert.throws(
      () => loadSettings({ PORT: 'abc', TWOFOLD_REMEMBER_FOR: '-1', TWOFOLD_TOTP_ISSUER: 'a:b' }),
      (e: unknown) => e instanceof SettingError && e.problems.map((p) => p.env).join() === 'PORT,TWOFOLD_REMEMBER_FOR,TWOFOLD_TOTP_ISSUER'
        && /^3 settings are wrong:\n {2}Setting PORT: "abc" is not a whole number\n {2}Setting TWOFOLD_REMEMBER_FOR: -1 is outside 0\.\.2592000\n {2}Setting TWOFOLD_TOTP_ISSUER: "a:b" is not text without ":"$/.test(e.message),
    );
  });

  it('every setting has an env name, a meaning and a default within its bounds', () => {
    const envs = new Set<string>();
    for (const spec of Object.values(settingsTable)) {
      assert.ok(!envs.has(spec.env), `${spec.env} twice`);
      envs.add(spec.env);
      assert.ok(spec.meaning.length > 10, spec.env);
      if (spec.kind === 'int') assert.ok(spec.default >= spec.min && spec.default <= spec.max, spec.env);
      assert.ok(spec.env === 'PORT' || spec.env === 'HOST' || spec.env === 'DATABASE_URL' || spec.env.startsWith('TWOFOLD_'), spec.env);
    }
  });

  it('docs/settings.md is generated from the table (run `npm run docs:settings` after a change)', () => {
    const onDisk = readFileSync(new URL('../../docs/settings.md', import.meta.url), 'utf8');
    assert.equal(onDisk, renderSettingsDoc());
  });
});
