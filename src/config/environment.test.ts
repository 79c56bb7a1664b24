import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editDistance, settingsFromEnvironment, unknownSettings } from './environment.ts';
import { SettingError, settingsTable } from './settings.ts';

describe('settings from the environment', () => {
  it('a misspelled TWOFOLD_ name is reported with the nearest real one', () => {
    assert.deepEqual(unknownSettings({
      TWOFOLD_REMEMBR_FOR: '5', // a dropped letter
      TWOFOLD_EMAIL_COED_TTL: '5', // two letters swapped
      twofold_data_dir: '/x', // not TWOFOLD_: the shell's own business
      TWOFOLD_LOGLEVEL: 'debug', // a dropped underscore
      TWOFOLD_WIDGETS: 'on', // nothing near
    }), [
      { name: 'TWOFOLD_EMAIL_COED_TTL', suggestion: 'TWOFOLD_EMAIL_CODE_TTL' },
      { name: 'TWOFOLD_LOGLEVEL', suggestion: 'TWOFOLD_LOG_LEVEL' },
      { name: 'TWOFOLD_REMEMBR_FOR', suggestion: 'TWOFOLD_REMEMBER_FOR' },
      { name: 'TWOFOLD_WIDGETS', suggestion: null },
    ]);
  });

  it('every name of the settings table, and the names one command reads, are known', () => {
    const env: Record<string, string> = { TWOFOLD_NEW_SECRET_KEY: 'x', PATH: '/bin' };
    for (const spec of Object.values(settingsTable)) env[spec.env] = '';
    assert.deepEqual(unknownSettings(env), []);
  });

  it('unknown names are warned about, and every bad value is in the one error', () => {
    const warnings: string[] = [];
    assert.throws(
      () => settingsFromEnvironment({ TWOFOLD_REMEMBR_FOR: '5', PORT: '-1', TWOFOLD_TOTP_MAX_DELTA: '11' }, (w) => warnings.push(w)),
      (e: unknown) => e instanceof SettingError && e.problems.map((p) => p.env).join() === 'PORT,TWOFOLD_TOTP_MAX_DELTA'
        && /^2 settings are wrong:\n {2}Setting PORT: -1 is outside 0..65535\n {2}Setting TWOFOLD_TOTP_MAX_DELTA: 11 is outside 0..10$/.test(e.message),
    );
    assert.deepEqual(warnings, ['unknown setting TWOFOLD_REMEMBR_FOR — did you mean TWOFOLD_REMEMBER_FOR?']);
  });

  it('edit distance counts a swap of neighbours as one edit', () => {
    assert.equal(editDistance('CODE', 'COED'), 1);
    assert.equal(editDistance('REMEMBR', 'REMEMBER'), 1);
    assert.equal(editDistance('', 'ABC'), 3);
    assert.equal(editDistance('KITTEN', 'SITTING'), 3);
  });
});
