import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Hex } from '../secrets.ts';
import { decide } from './decide.ts';
import { engineWorld } from './testing.ts';

// decide() is pure: the same state, request, settings and instant give the same decision,
// and nothing is stored, mailed or counted (the engine tests cover applying it).

describe('decide: the second-factor decision without I/O', () => {
  it('passes when 2FA is off, on a remembered success, with nothing to ask, or in the new-account grace', () => {
    const w = engineWorld();
    const now = w.clock.now();
    const user = w.user({ email2faEnabled: true });
    assert.deepEqual(decide({ user }, { purpose: 'call', policy: 'ask' }, { ...w.settings, twoFactorEnabled: false }, now), { kind: 'pass', passed: 'off' });
    const token = { tokenHash: 'h', twofaUntil: now + 1000, twofaFingerprint: 'fp' };
    assert.deepEqual(decide({ user, token }, { purpose: 'call', policy: 'ask', fingerprint: 'fp' }, w.settings, now), { kind: 'pass', passed: 'remembered' });
    // `always` and another client ignore the remembered success.
    assert.equal(decide({ user, token }, { purpose: 'call', policy: 'always', fingerprint: 'fp' }, w.settings, now).kind, 'challenge');
    assert.equal(decide({ user, token }, { purpose: 'call', policy: 'ask', fingerprint: 'other' }, w.settings, now).kind, 'challenge');
    const plain = w.user();
    assert.deepEqual(decide({ user: plain }, { purpose: 'login', policy: 'always' }, w.settings, now), { kind: 'pass', passed: 'nothing-to-ask' });
    const fresh = w.user({ createdAt: now });
    assert.deepEqual(decide({ user: fresh }, { purpose: 'call', policy: 'ask' }, { ...w.settings, passwordFallback: true }, now), { kind: 'pass', passed: 'grace' });
  });

  it('asks for the preferred method without a code, and verifies with one, remembering only a rememberable call', () => {
    const w = engineWorld();
    const now = w.clock.now();
    const user = w.user({ email2faEnabled: true });
    assert.deepEqual(decide({ user }, { purpose: 'call', policy: 'ask' }, w.settings, now), { kind: 'challenge', method: 'email', available: ['email'], send: true });
    const token = { tokenHash: 'h', twofaUntil: null, twofaFingerprint: null };
    assert.deepEqual(decide({ user, token }, { purpose: 'call', policy: 'ask', code: '123456', fingerprint: 'fp' }, w.settings, now),
      { kind: 'verify', method: 'email', available: ['email'], code: '123456', remember: { tokenHash: 'h', until: now + w.settings.rememberFor * 1000, fingerprint: 'fp' } });
    assert.equal((decide({ user, token }, { purpose: 'call', policy: 'always', code: '123456', fingerprint: 'fp' }, w.settings, now) as { remember: unknown }).remember, null);
  });

  it('the password is a fallback on a call, never at login; an authenticator argument is always the app\'s code', () => {
    const w = engineWorld({ passwordFallback: false });
    const now = w.clock.now();
    const user = w.user();
    const digest = sha256Hex('correct horse');
    assert.equal(decide({ user }, { purpose: 'call', policy: 'always', code: digest, requireSecondFactor: true }, w.settings, now).kind, 'verify');
    assert.deepEqual(decide({ user }, { purpose: 'login', policy: 'always', code: digest, method: 'password' }, w.settings, now), { kind: 'pass', passed: 'nothing-to-ask' });
    assert.deepEqual(decide({ user }, { purpose: 'code-argument', code: '' }, { ...w.settings, twoFactorEnabled: false }, now), { kind: 'challenge', method: 'totp', available: [], send: false });
  });

  it('an emailed code stands in for the authenticator argument only for a user with email codes on', () => {
    const w = engineWorld();
    const now = w.clock.now();
    const withEmail = w.user({ email2faEnabled: true });
    assert.deepEqual(decide({ user: withEmail }, { purpose: 'code-argument', code: '', emailCode: '' }, w.settings, now), { kind: 'challenge', method: 'email', available: ['email'], send: true });
    assert.deepEqual(decide({ user: withEmail }, { purpose: 'code-argument', code: '654321', emailCode: '123456' }, w.settings, now),
      { kind: 'verify', method: 'email', available: ['email'], code: '123456', remember: null });
    const without = w.user();
    assert.deepEqual(decide({ user: without }, { purpose: 'code-argument', code: '', emailCode: '123456' }, w.settings, now), { kind: 'challenge', method: 'totp', available: [], send: false });
    assert.equal((decide({ user: without }, { purpose: 'code-argument', code: '654321', emailCode: '123456' }, w.settings, now) as { method: string }).method, 'totp');
    assert.equal(decide({ user: withEmail }, { purpose: 'code-argument', code: '', emailCode: '' }, { ...w.settings, email2faEnabled: false }, now).kind, 'challenge');
  });

  it('a remembered device passes a sign-in of its user from its browser until it expires, and nothing else', () => {
    const w = engineWorld();
    const now = w.clock.now();
    const user = w.user({ email2faEnabled: true });
    const device = { userId: user.id, fingerprint: 'ua', expiresAt: now + 1000 };
    const login = { purpose: 'login', policy: 'always', deviceFingerprint: 'ua' } as const;
    assert.deepEqual(decide({ user, device }, login, w.settings, now), { kind: 'pass', passed: 'device' });
    // Another user, another browser, expired, the feature off: the code is asked.
    assert.equal(decide({ user: w.user({ email2faEnabled: true }), device }, login, w.settings, now).kind, 'challenge');
    assert.equal(decide({ user, device }, { ...login, deviceFingerprint: 'other' }, w.settings, now).kind, 'challenge');
    assert.equal(decide({ user, device }, login, w.settings, now + 1000).kind, 'challenge');
    assert.equal(decide({ user, device }, login, { ...w.settings, rememberDeviceDays: 0 }, now).kind, 'challenge');
    // A call, even one that would pass a remembered success, is never passed by a device.
    assert.equal(decide({ user, device }, { purpose: 'call', policy: 'ask', deviceFingerprint: 'ua' }, w.settings, now).kind, 'challenge');
  });
});
