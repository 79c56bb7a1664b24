import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Hex } from '../secrets.ts';
import { availableMethods, checkSecondFactor, selectMethod } from './engine.ts';
import { engineWorld, rejection } from './testing.ts';
import type { CheckRequest } from './types.ts';

const call = (p: Omit<CheckRequest, 'purpose' | 'policy'> & Partial<CheckRequest>): CheckRequest =>
  ({ purpose: 'call', policy: 'ask', ...p });

describe('2FA engine: choosing the method (spec §3.2)', () => {
  it('prefers totp, then email, and lists both in that order', async () => {
    const w = engineWorld();
    const { user } = w.totpUser({ email2faEnabled: true });
    assert.deepEqual(availableMethods(user, w.settings), ['totp', 'email']);
    const e = await rejection(checkSecondFactor(w.deps, call({ user })));
    assert.equal(e.code, 'totp-required');
    assert.equal(e.details?.method, 'totp');
    assert.deepEqual(e.details?.availableMethods, ['totp', 'email']);
    assert.equal(w.sent.length, 0, 'no mail when the method is totp');
  });

  it('honours the method the client names, even one the user has not enabled', async () => {
    const w = engineWorld();
    const { user } = w.totpUser({ email2faEnabled: true });
    const email = await rejection(checkSecondFactor(w.deps, call({ user, method: 'email' })));
    assert.equal(email.details?.method, 'email');
    assert.equal(email.details?.codeGenerated, true);
    const plain = w.user({ email2faEnabled: true });
    const totp = await rejection(checkSecondFactor(w.deps, call({ user: plain, method: 'totp', code: '123456' })));
    assert.equal(totp.code, 'totp-invalid');
    assert.equal(totp.details?.method, 'totp');
    assert.deepEqual(totp.details?.availableMethods, ['email']);
  });

  it('ignores an unknown method name and asks for the user\'s own method', async () => {
    const w = engineWorld();
    const user = w.user({ email2faEnabled: true });
    const e = await rejection(checkSecondFactor(w.deps, call({ user, method: 'sms' })));
    assert.equal(e.code, 'totp-required');
    assert.equal(e.details?.method, 'email');
  });

  it('settings switch methods off: email off leaves the password fallback', async () => {
    const w = engineWorld({ email2faEnabled: false });
    const user = w.user({ email2faEnabled: true });
    assert.deepEqual(availableMethods(user, w.settings), []);
    assert.equal(selectMethod(user, { purpose: 'call' }, w.settings).method, 'password');
  });

  it('an email method needs a verified address', () => {
    const w = engineWorld();
    const user = w.user({ email2faEnabled: true, emails: [{ address: 'x@example.com', verified: false }] });
    assert.deepEqual(availableMethods(user, w.settings), []);
  });

  it('passes everything when 2FA is switched off globally', async () => {
    const w = engineWorld({ twoFactorEnabled: false });
    const { user } = w.totpUser();
    assert.deepEqual(await checkSecondFactor(w.deps, call({ user, policy: 'always' })), { passed: 'off' });
  });
});

describe('2FA engine: the password fallback', () => {
  it('asks a user with no method for the SHA-256 hex of their password, in either case', async () => {
    const w = engineWorld();
    const user = w.user({ password: 's3cret' });
    const e = await rejection(checkSecondFactor(w.deps, call({ user })));
    assert.equal(e.code, 'totp-required');
    assert.deepEqual(e.details, { method: 'password', codeGenerated: false, availableMethods: [] });
    const digest = sha256Hex('s3cret');
    assert.deepEqual(await checkSecondFactor(w.deps, call({ user, code: digest, method: 'password' })), { passed: 'verified', method: 'password' });
    assert.deepEqual(await checkSecondFactor(w.deps, call({ user, code: digest.toUpperCase() })), { passed: 'verified', method: 'password' });
  });

  it('refuses the wrong password, and the plaintext password itself', async () => {
    const w = engineWorld();
    const user = w.user({ password: 's3cret' });
    for (const code of [sha256Hex('wrong'), 's3cret', sha256Hex('s3cret').slice(1)]) {
      const e = await rejection(checkSecondFactor(w.deps, call({ user, code, method: 'password' })));
      assert.equal(e.code, 'totp-invalid');
      assert.equal(e.details?.method, 'password');
    }
  });

  it('is not used when the user has another method, even when the client names it', async () => {
    const w = engineWorld();
    const user = w.user({ email2faEnabled: true, password: 's3cret' });
    const e = await rejection(checkSecondFactor(w.deps, call({ user, method: 'password', code: sha256Hex('s3cret') })));
    assert.equal(e.code, 'totp-invalid');
    assert.equal(e.details?.method, 'email');
  });

  it('is off with its setting, unless the operation requires a second factor', async () => {
    const w = engineWorld({ passwordFallback: false });
    const user = w.user();
    assert.deepEqual(await checkSecondFactor(w.deps, call({ user })), { passed: 'nothing-to-ask' });
    const e = await rejection(checkSecondFactor(w.deps, call({ user, requireSecondFactor: true })));
    assert.equal(e.details?.method, 'password');
  });

  it('does not apply to a user without a password', async () => {
    const w = engineWorld();
    const user = w.user({ passwordHash: null });
    assert.deepEqual(await checkSecondFactor(w.deps, call({ user })), { passed: 'nothing-to-ask' });
  });

  it('is never a second factor at login: the password already was the first', async () => {
    const w = engineWorld();
    const user = w.user({ password: 's3cret' });
    const login = { user, purpose: 'login' as const, policy: 'always' as const };
    assert.deepEqual(await checkSecondFactor(w.deps, login), { passed: 'nothing-to-ask' });
    assert.deepEqual(await checkSecondFactor(w.deps, { ...login, method: 'password', code: sha256Hex('s3cret') }), { passed: 'nothing-to-ask' });
    const emailUser = w.user({ email2faEnabled: true, password: 's3cret' });
    const e = await rejection(checkSecondFactor(w.deps, { ...login, user: emailUser, method: 'password', code: sha256Hex('s3cret') }));
    assert.equal(e.code, 'totp-invalid');
    assert.equal(e.details?.method, 'email');
  });
});

describe('2FA engine: remembering a success (spec §3.5)', () => {
  const fingerprint = 'fp-browser-1';

  it('a success is remembered for the same token and client for RememberFor seconds', async () => {
    const w = engineWorld();
    const user = w.user({ password: 'pw' });
    const code = sha256Hex('pw');
    await checkSecondFactor(w.deps, call({ user, code, token: w.store.callerToken('tok1'), fingerprint }));
    assert.deepEqual(await checkSecondFactor(w.deps, call({ user, token: w.store.callerToken('tok1'), fingerprint })), { passed: 'remembered' });
    // Another client with the same token, or another token from the same client, is asked again.
    await rejection(checkSecondFactor(w.deps, call({ user, token: w.store.callerToken('tok1'), fingerprint: 'fp-other' })));
    await rejection(checkSecondFactor(w.deps, call({ user, token: w.store.callerToken('tok2'), fingerprint })));
    w.clock.advance(w.settings.rememberFor - 1);
    assert.deepEqual(await checkSecondFactor(w.deps, call({ user, token: w.store.callerToken('tok1'), fingerprint })), { passed: 'remembered' });
    w.clock.advance(1);
    const e = await rejection(checkSecondFactor(w.deps, call({ user, token: w.store.callerToken('tok1'), fingerprint })));
    assert.equal(e.code, 'totp-required');
  });

  it('always-ask operations ignore a remembered success and are not remembered themselves', async () => {
    const w = engineWorld();
    const user = w.user({ password: 'pw' });
    const code = sha256Hex('pw');
    await checkSecondFactor(w.deps, call({ user, code, token: w.store.callerToken('tok'), fingerprint }));
    const e = await rejection(checkSecondFactor(w.deps, call({ user, policy: 'always', token: w.store.callerToken('tok'), fingerprint })));
    assert.equal(e.code, 'totp-required');
    const fresh = engineWorld();
    const u2 = fresh.user({ password: 'pw' });
    await checkSecondFactor(fresh.deps, call({ user: u2, policy: 'always', code, token: fresh.store.callerToken('t'), fingerprint }));
    assert.equal(fresh.store.remembered.size, 0);
  });

  it('RememberFor 0 turns remembering off, also for successes remembered before', async () => {
    const w = engineWorld({ rememberFor: 0 });
    const user = w.user({ password: 'pw' });
    await checkSecondFactor(w.deps, call({ user, code: sha256Hex('pw'), token: w.store.callerToken('tok'), fingerprint }));
    assert.equal(w.store.remembered.size, 0);
    await w.store.remember('tok', w.clock.now() + 3_600_000, fingerprint);
    const e = await rejection(checkSecondFactor(w.deps, call({ user, token: w.store.callerToken('tok'), fingerprint })));
    assert.equal(e.code, 'totp-required');
  });

  it('a failed check is not remembered', async () => {
    const w = engineWorld();
    const user = w.user({ password: 'pw' });
    await rejection(checkSecondFactor(w.deps, call({ user, code: sha256Hex('nope'), token: w.store.callerToken('tok'), fingerprint })));
    assert.equal(w.store.remembered.size, 0);
  });
});

describe('2FA engine: the new-user grace', () => {
  it('a user with no method is not asked during the first RememberFor seconds after sign-up', async () => {
    const w = engineWorld();
    const user = w.user({ createdAt: w.clock.now() });
    assert.deepEqual(await checkSecondFactor(w.deps, call({ user })), { passed: 'grace' });
    w.clock.advance(w.settings.rememberFor);
    const e = await rejection(checkSecondFactor(w.deps, call({ user })));
    assert.equal(e.details?.method, 'password');
  });

  it('the grace does not cover always-ask operations or users with a method', async () => {
    const w = engineWorld();
    const user = w.user({ createdAt: w.clock.now() });
    assert.equal((await rejection(checkSecondFactor(w.deps, call({ user, policy: 'always' })))).code, 'totp-required');
    const emailUser = w.user({ createdAt: w.clock.now(), email2faEnabled: true });
    assert.equal((await rejection(checkSecondFactor(w.deps, call({ user: emailUser })))).details?.method, 'email');
  });

  it('RememberFor 0 also ends the grace', async () => {
    const w = engineWorld({ rememberFor: 0 });
    const user = w.user({ createdAt: w.clock.now() });
    assert.equal((await rejection(checkSecondFactor(w.deps, call({ user })))).code, 'totp-required');
  });
});

describe('2FA engine: TOTP and bad input', () => {
  it('accepts the authenticator\'s code once, and refuses its replay', async () => {
    const w = engineWorld();
    const { user, code } = w.totpUser();
    const now = code();
    assert.deepEqual(await checkSecondFactor(w.deps, call({ user, code: now })), { passed: 'verified', method: 'totp' });
    assert.equal((await rejection(checkSecondFactor(w.deps, call({ user, code: now })))).code, 'totp-invalid');
  });

  it('codes of the wrong shape or length are totp-invalid, never a crash', async () => {
    const w = engineWorld({ failureLimit: 100 });
    const { user } = w.totpUser({ email2faEnabled: true });
    const bad = ['1', '12345', '1234567', 'abcdef', ' ', 'x'.repeat(129), '\u0000\u0000\u0000\u0000\u0000\u0000', '１２３４５６'];
    for (const method of ['totp', 'email', 'password', undefined]) {
      for (const code of bad) {
        const e = await rejection(checkSecondFactor(w.deps, call({ user, code, method })));
        assert.ok(e.code === 'totp-invalid' || e.code === 'totp-max-attempts', `${method} ${JSON.stringify(code)}: ${e.code}`);
      }
    }
  });

  it('too many wrong codes in the window give totp-max-attempts even for the right code', async () => {
    const w = engineWorld();
    const { user, code } = w.totpUser();
    for (let i = 0; i < w.settings.failureLimit; i++) {
      assert.equal((await rejection(checkSecondFactor(w.deps, call({ user, code: '000000' })))).code, 'totp-invalid');
    }
    assert.equal((await rejection(checkSecondFactor(w.deps, call({ user, code: code() })))).code, 'totp-max-attempts');
    w.clock.advance(w.settings.failureWindow + 1);
    assert.deepEqual(await checkSecondFactor(w.deps, call({ user, code: code() })), { passed: 'verified', method: 'totp' });
  });
});
