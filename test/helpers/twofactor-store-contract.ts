// The two-factor store's contract, as the engine relies on it: one set of expectations run
// against the in-memory store (the engine's unit tests use it) and the SQL store (SQLite,
// and PostgreSQL when TEST_DATABASE_URL is set), so the unit tests cannot pass on a store
// that behaves differently from the real one.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LiveEmailCode, TwoFactorStore } from '../../src/core/twofactor/types.ts';

/** What the contract needs beyond the store: rows the store refers to but does not make. */
export interface StoreUnderContract {
  store: TwoFactorStore;
  /** A fresh user id the store may refer to. */
  newUser(): Promise<string>;
  giveBackupCodes(userId: string, codeHashes: string[]): Promise<void>;
  /** A login token of the user; returns its hash. */
  newToken(userId: string): Promise<string>;
  rememberedFor(tokenHash: string): Promise<{ until: number | null; fingerprint: string | null }>;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
let serial = 0;
const code = (createdAt: number, ttlMs = 600_000): LiveEmailCode => {
  const id = `code${String(++serial).padStart(6, '0')}`;
  return { id, codeHash: `hash of ${id}`, createdAt, expiresAt: createdAt + ttlMs };
};

export function twoFactorStoreContract(name: string, open: () => Promise<StoreUnderContract>): void {
  describe(`two-factor store contract (${name})`, () => {
    let s: StoreUnderContract;
    before(async () => { s = await open(); });
    after(() => s.close());

    it('live email codes come oldest first, without the expired ones, and only the user\'s own', async () => {
      const [u, other] = [await s.newUser(), await s.newUser()];
      const b = code(T0 + 2000), a = code(T0 + 1000), short = code(T0 + 1500, 1000);
      for (const c of [b, a, short]) await s.store.addEmailCode(u, c, 10, T0);
      await s.store.addEmailCode(other, code(T0), 10, T0);
      assert.deepEqual(await s.store.liveEmailCodes(u, T0 + 2000), [a, short, b]);
      assert.deepEqual(await s.store.liveEmailCodes(u, T0 + 2500), [a, b], 'a code is dead at its expiry');
    });

    it('adding a code keeps at most maxLive live ones, dropping the oldest', async () => {
      const u = await s.newUser();
      const codes = [code(T0 + 1), code(T0 + 2), code(T0 + 3), code(T0 + 4)];
      for (const c of codes) await s.store.addEmailCode(u, c, 3, T0 + 10);
      assert.deepEqual(await s.store.liveEmailCodes(u, T0 + 10), codes.slice(1));
    });

    it('consuming a code deletes it and every older one, keeps the newer ones, and succeeds once', async () => {
      const [u, other] = [await s.newUser(), await s.newUser()];
      const [c1, c2, c3] = [code(T0 + 1), code(T0 + 2), code(T0 + 3)];
      for (const c of [c1, c2, c3]) await s.store.addEmailCode(u, c, 10, T0);
      assert.equal(await s.store.consumeEmailCode(other, c2), false, 'another user cannot consume it');
      assert.equal(await s.store.consumeEmailCode(u, c2), true);
      assert.deepEqual(await s.store.liveEmailCodes(u, T0 + 10), [c3]);
      assert.equal(await s.store.consumeEmailCode(u, c2), false, 'a second use fails');
      assert.equal(await s.store.consumeEmailCode(u, c1), false, 'an older code went with it');
    });

    it('dropping a user\'s codes leaves other users\' codes', async () => {
      const [u, other] = [await s.newUser(), await s.newUser()];
      const kept = code(T0);
      await s.store.addEmailCode(u, code(T0), 10, T0);
      await s.store.addEmailCode(other, kept, 10, T0);
      await s.store.dropEmailCodes(u);
      assert.deepEqual(await s.store.liveEmailCodes(u, T0), []);
      assert.deepEqual(await s.store.liveEmailCodes(other, T0), [kept]);
    });

    it('failures are counted per user from `since` on (inclusive), in all or of one kind', async () => {
      const [u, other] = [await s.newUser(), await s.newUser()];
      await s.store.recordFailure(u, 'email', T0, `f${++serial}`);
      await s.store.recordFailure(u, 'totp', T0 + 1000, `f${++serial}`);
      await s.store.recordFailure(u, 'totp', T0 + 2000, `f${++serial}`);
      await s.store.recordFailure(other, 'totp', T0 + 2000, `f${++serial}`);
      assert.equal(await s.store.countFailures(u, T0), 3);
      assert.equal(await s.store.countFailures(u, T0 + 1000), 2);
      assert.equal(await s.store.countFailures(u, T0 + 1000, 'totp'), 2);
      assert.equal(await s.store.countFailures(u, T0, 'email'), 1);
      assert.equal(await s.store.countFailures(u, T0 + 2001), 0);
    });

    it('a TOTP step is accepted once, and never one at or before the last accepted', async () => {
      const [u, other] = [await s.newUser(), await s.newUser()];
      assert.equal(await s.store.acceptTotpStep(u, 100), true);
      assert.equal(await s.store.acceptTotpStep(u, 100), false);
      assert.equal(await s.store.acceptTotpStep(u, 99), false);
      assert.equal(await s.store.acceptTotpStep(u, 101), true);
      assert.equal(await s.store.acceptTotpStep(other, 100), true, 'steps are per user');
    });

    it('a backup code is consumed once, and only by its owner', async () => {
      const [u, other] = [await s.newUser(), await s.newUser()];
      await s.giveBackupCodes(u, ['h1', 'h2']);
      assert.equal(await s.store.consumeBackupCode(other, 'h1'), false);
      assert.equal(await s.store.consumeBackupCode(u, 'h1'), true);
      assert.equal(await s.store.consumeBackupCode(u, 'h1'), false);
      assert.equal(await s.store.consumeBackupCode(u, 'h3'), false);
      assert.equal(await s.store.consumeBackupCode(u, 'h2'), true);
    });

    it('runCheck runs the checks of one user one after another, each seeing the state the previous one left', async () => {
      const u = await s.newUser();
      const seen: number[] = [];
      await Promise.all(Array.from({ length: 5 }, () => s.store.runCheck(u, T0, async (tx) => {
        seen.push(tx.state.failuresInRow);
        assert.equal(tx.state.suspended, false);
        await tx.store.failedCheck(u, 'totp', T0, `f${++serial}`, 100);
      })));
      assert.deepEqual(seen, [0, 1, 2, 3, 4]);
      assert.equal(await s.store.countFailures(u, T0), 5);
    });

    it('in runCheck, the failure that reaches the limit in a row suspends, once; a reset starts the count again', async () => {
      const [u, other] = [await s.newUser(), await s.newUser()];
      const fail = (user: string) => s.store.runCheck(user, T0, (tx) => tx.store.failedCheck(user, 'email', T0, `f${++serial}`, 3));
      assert.deepEqual([await fail(u), await fail(u), await fail(u)], [false, false, true]);
      assert.equal(await s.store.isSuspended(u), true);
      assert.equal(await fail(u), false, 'already suspended');
      assert.equal(await s.store.runCheck(u, T0, async (tx) => tx.state.suspended), true);
      await fail(other);
      await fail(other);
      await s.store.runCheck(other, T0, (tx) => tx.store.resetFailuresInRow(other));
      assert.deepEqual([await fail(other), await fail(other)], [false, false]);
      assert.equal(await s.store.isSuspended(other), false);
      assert.equal(await s.store.countFailures(other, T0, 'email'), 4, 'a reset ends the run, not the window');
    });

    it('remembering a success on a token keeps its end and fingerprint; the latest wins', async () => {
      const u = await s.newUser();
      const token = await s.newToken(u);
      assert.deepEqual(await s.rememberedFor(token), { until: null, fingerprint: null });
      await s.store.remember(token, T0 + 60_000, 'fp1');
      await s.store.remember(token, T0 + 120_000, 'fp2');
      assert.deepEqual(await s.rememberedFor(token), { until: T0 + 120_000, fingerprint: 'fp2' });
    });
  });
}
