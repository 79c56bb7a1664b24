import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cryptoRandom } from '../random.ts';
import { BACKUP_CODE_ALPHABET, hashBackupCode, isBackupCodeShape, newBackupCodes } from './backup-codes.ts';
import { checkSecondFactor } from './engine.ts';
import { engineWorld, rejection } from './testing.ts';

describe('backup codes people can type (issue 14 §6)', () => {
  it('are 12 lowercase codes shown as xxxxx-xxxxx from 32 unambiguous characters (50 bits each)', () => {
    assert.equal(BACKUP_CODE_ALPHABET.length, 32);
    assert.equal(new Set(BACKUP_CODE_ALPHABET).size, 32);
    for (const lookalike of '01lo') assert.ok(!BACKUP_CODE_ALPHABET.includes(lookalike), lookalike);
    const codes = newBackupCodes(cryptoRandom);
    assert.equal(codes.length, 12);
    for (const c of codes) assert.match(c, /^[a-km-np-z2-9]{5}-[a-km-np-z2-9]{5}$/);
    assert.equal(new Set(codes).size, 12);
  });

  it('are accepted with or without the dash, with spaces and in any case, once', async () => {
    const w = engineWorld();
    const { user } = w.totpUser();
    const [a, b, c, d] = newBackupCodes(cryptoRandom) as [string, string, string, string];
    w.store.backupCodes.set(user.id, new Set([a, b, c, d].map((x) => hashBackupCode(w.keys, user.id, x))));
    const typed = [a.toUpperCase(), b.replace('-', ''), ` ${c.slice(0, 3)} ${c.slice(3).replace('-', ' ')} `, d];
    for (const code of typed) {
      const outcome = await checkSecondFactor(w.deps, { user, policy: 'ask', purpose: 'call', code, method: 'totp' });
      assert.equal(outcome.passed, 'verified', code);
    }
    const again = await rejection(checkSecondFactor(w.deps, { user, policy: 'ask', purpose: 'call', code: a, method: 'totp' }));
    assert.equal(again.code, 'totp-invalid', 'a used code is refused');
  });

  it('keeps accepting the 8-character codes users already hold, exactly as issued', async () => {
    const w = engineWorld();
    const { user } = w.totpUser();
    const legacy = 'Ab3dEf7H';
    w.store.backupCodes.set(user.id, new Set([hashBackupCode(w.keys, user.id, legacy)]));
    assert.ok(isBackupCodeShape(legacy));
    const wrongCase = await rejection(checkSecondFactor(w.deps, { user, policy: 'ask', purpose: 'call', code: legacy.toLowerCase(), method: 'totp' }));
    assert.equal(wrongCase.code, 'totp-invalid', 'old codes were issued case-sensitive and stay so');
    const outcome = await checkSecondFactor(w.deps, { user, policy: 'ask', purpose: 'call', code: legacy, method: 'totp' });
    assert.equal(outcome.passed, 'verified');
  });

  it('a 6-digit code is never taken for a backup code', () => {
    assert.ok(!isBackupCodeShape('123456'));
    assert.ok(!isBackupCodeShape('123 456'));
    assert.ok(!isBackupCodeShape('x'.repeat(200)));
  });
});
