import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Hex } from '../secrets.ts';
import { checkSecondFactor } from './engine.ts';
import { engineWorld, rejection } from './testing.ts';
import type { CheckRequest } from './types.ts';

const call = (p: Omit<CheckRequest, 'purpose' | 'policy'> & Partial<CheckRequest>): CheckRequest =>
  ({ purpose: 'call', policy: 'always', ...p });

describe('2FA engine: each check is reserved before the code is looked at', () => {
  it('of 100 concurrent wrong passwords, only the failure limit reach the verifier', async () => {
    const w = engineWorld();
    const user = w.user();
    let started = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    const real = w.deps.verifyPassword;
    w.deps.verifyPassword = async (hash, digest) => { started++; await gate; return real(hash, digest); };
    const all = Array.from({ length: 100 }, (_, i) => rejection(checkSecondFactor(w.deps, call({ user, code: sha256Hex(`guess ${i}`) }))));
    // Every reservation happens before any verifier returns: let them all queue up.
    await new Promise((resolve) => setImmediate(resolve));
    open();
    const codes = (await Promise.all(all)).map((e) => e.code);
    assert.equal(started, w.settings.failureLimit);
    assert.equal(codes.filter((c) => c === 'totp-invalid').length, w.settings.failureLimit);
    assert.equal(codes.filter((c) => c === 'totp-max-attempts').length, 100 - w.settings.failureLimit);
  });

  it('a right code gives its reservation back and ends the run of failures', async () => {
    const w = engineWorld();
    const user = w.user();
    for (let i = 0; i < 9; i++) await rejection(checkSecondFactor(w.deps, call({ user, code: sha256Hex('wrong') })));
    assert.deepEqual(await checkSecondFactor(w.deps, call({ user, code: sha256Hex('correct horse') })), { passed: 'verified', method: 'password' });
    assert.equal(w.store.failures.length, 9);
    assert.equal(w.store.inRow.get(user.id), 0);
  });
});

describe('2FA engine: suspension after consecutive failures', () => {
  it('the failure that reaches the limit suspends once, mails the user, and no code is checked afterwards', async () => {
    const w = engineWorld({ maxConsecutiveFailures: 12 });
    const user = w.user();
    const mailed: string[][] = [];
    w.deps.sendSuspendedMail = async (_u, addresses) => { mailed.push(addresses); };
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) {
      if (i === w.settings.failureLimit) w.clock.advance(w.settings.failureWindow + 1);
      codes.push((await rejection(checkSecondFactor(w.deps, call({ user, code: sha256Hex('wrong') })))).code);
    }
    assert.deepEqual(codes, [...Array(11).fill('totp-invalid'), 'error-2fa-suspended']);
    assert.deepEqual(mailed, [[user.emails[0]!.address]]);
    let verified = 0;
    const real = w.deps.verifyPassword;
    w.deps.verifyPassword = async (hash, digest) => { verified++; return real(hash, digest); };
    w.clock.advance(w.settings.failureWindow + 1);
    assert.equal((await rejection(checkSecondFactor(w.deps, call({ user, code: sha256Hex('correct horse') })))).code, 'error-2fa-suspended');
    assert.equal((await rejection(checkSecondFactor(w.deps, call({ user })))).code, 'error-2fa-suspended', 'no challenge either');
    assert.equal(verified, 0);
    assert.equal(mailed.length, 1);
  });
});
