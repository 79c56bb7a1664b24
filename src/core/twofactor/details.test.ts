// The optional keys the engine adds to refusals, so a page can say what happened: why a
// code was refused, how many tries are left, and how long a lockout lasts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSecondFactor } from './engine.ts';
import { engineWorld, rejection } from './testing.ts';
import type { CheckRequest } from './types.ts';

const call = (p: Omit<CheckRequest, 'purpose' | 'policy'> & Partial<CheckRequest>): CheckRequest =>
  ({ purpose: 'call', policy: 'ask', ...p });

describe('2FA engine: what a refusal tells the page', () => {
  it('a wrong TOTP code says "wrong" and counts down the attempts left', async () => {
    const w = engineWorld({ failureLimit: 3 });
    const { user, code } = w.totpUser();
    const wrong = code() === '000000' ? '111111' : '000000';
    const first = await rejection(checkSecondFactor(w.deps, call({ user, code: wrong })));
    assert.equal(first.code, 'totp-invalid');
    assert.equal(first.details?.reason, 'wrong');
    assert.equal(first.details?.attemptsLeft, 2);
    assert.equal(first.details?.retryAfter, undefined);
    assert.equal((await rejection(checkSecondFactor(w.deps, call({ user, code: wrong })))).details?.attemptsLeft, 1);
  });

  it('the last wrong code says when the lockout ends, and the lockout counts down as failures age out', async () => {
    const w = engineWorld({ failureLimit: 2, failureWindow: 600 });
    const { user, code } = w.totpUser();
    const wrong = code() === '000000' ? '111111' : '000000';
    await rejection(checkSecondFactor(w.deps, call({ user, code: wrong })));
    w.clock.advance(100);
    const last = await rejection(checkSecondFactor(w.deps, call({ user, code: wrong })));
    assert.equal(last.details?.attemptsLeft, 0);
    // The first failure leaves the window just over 500 s from now, which frees one try.
    assert.equal(last.details?.retryAfter, 501);
    w.clock.advance(200);
    const locked = await rejection(checkSecondFactor(w.deps, call({ user, code: code() })));
    assert.equal(locked.code, 'totp-max-attempts');
    assert.equal(locked.details?.retryAfter, 301);
    w.clock.advance(301);
    assert.deepEqual(await checkSecondFactor(w.deps, call({ user, code: code() })), { passed: 'verified', method: 'totp' }, 'the wait told is enough');
    assert.equal(locked.details?.method, 'totp', 'the protocol keys are still there');
  });

  it('a TOTP code of a time step already used says "used"', async () => {
    const w = engineWorld();
    const { user, code } = w.totpUser();
    const good = code();
    await checkSecondFactor(w.deps, call({ user, code: good }));
    const again = await rejection(checkSecondFactor(w.deps, call({ user: { ...user }, code: good })));
    assert.equal(again.code, 'totp-invalid');
    assert.equal(again.details?.reason, 'used');
  });

  it('an email code past its lifetime says "expired"; a wrong one while a code is live says "wrong"', async () => {
    const w = engineWorld({ emailCodeTtl: 300 });
    const user = w.user({ email2faEnabled: true });
    await rejection(checkSecondFactor(w.deps, call({ user })));
    const mailed = w.lastCode(user);
    const wrong = mailed === '000000' ? '111111' : '000000';
    const early = await rejection(checkSecondFactor(w.deps, call({ user, code: wrong })));
    assert.equal(early.details?.reason, 'wrong');
    assert.equal(early.details?.attemptsLeft, w.settings.emailCodeMaxAttempts - 1);
    w.clock.advance(301);
    const late = await rejection(checkSecondFactor(w.deps, call({ user, code: mailed, method: 'email' })));
    assert.equal(late.code, 'totp-invalid');
    assert.equal(late.details?.reason, 'expired');
    assert.equal(late.details?.codeCount, 0);
  });

  it('a backup code that does not match says "wrong" (a used one is gone, so nothing tells it apart)', async () => {
    const w = engineWorld();
    const { user } = w.totpUser();
    const e = await rejection(checkSecondFactor(w.deps, call({ user, code: 'abcdefgh' })));
    assert.equal(e.details?.reason, 'wrong');
  });
});
