import type {
  CallerToken, CheckTransaction, LiveEmailCode, MethodName, Reservation, ReservationLimits, TwoFactorStore,
} from './types.ts';

/**
 * The engine's storage held in memory, with the same contract as the SQL store: for the
 * engine's unit tests, and for anything else that needs the engine without a database.
 */
export class MemoryTwoFactorStore implements TwoFactorStore {
  readonly emailCodes = new Map<string, LiveEmailCode[]>();
  readonly failures: { userId: string; kind: MethodName; at: number; id: string }[] = [];
  readonly backupCodes = new Map<string, Set<string>>();
  readonly lastTotpStep = new Map<string, number>();
  readonly remembered = new Map<string, { until: number; fingerprint: string }>();
  readonly inRow = new Map<string, number>();
  readonly suspended = new Map<string, number>();
  /** Per user, the end of the last check queued: checks of one user run one after another, as under the SQL store's lock. */
  private readonly checks = new Map<string, Promise<unknown>>();

  async liveEmailCodes(userId: string, now: number): Promise<LiveEmailCode[]> {
    return (this.emailCodes.get(userId) ?? []).filter((c) => c.expiresAt > now).map((c) => ({ ...c }));
  }

  async addEmailCode(userId: string, code: LiveEmailCode, maxLive: number, now: number): Promise<void> {
    const kept = (this.emailCodes.get(userId) ?? []).filter((c) => c.expiresAt > now);
    kept.push({ ...code });
    kept.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    this.emailCodes.set(userId, kept.slice(-maxLive));
  }

  async consumeEmailCode(userId: string, code: LiveEmailCode): Promise<boolean> {
    const codes = this.emailCodes.get(userId) ?? [];
    if (!codes.some((c) => c.id === code.id)) return false;
    this.emailCodes.set(userId, codes.filter((c) => c.id !== code.id && c.createdAt > code.createdAt));
    return true;
  }

  async dropEmailCodes(userId: string): Promise<void> {
    this.emailCodes.delete(userId);
  }

  async recordFailure(userId: string, kind: MethodName, at: number, id: string): Promise<void> {
    this.failures.push({ userId, kind, at, id });
  }

  async countFailures(userId: string, since: number, kind?: MethodName): Promise<number> {
    return this.failures.filter((f) => f.userId === userId && f.at >= since && (kind === undefined || f.kind === kind)).length;
  }

  // One event loop turn from read to write: nothing can interleave, like the SQL store's lock.
  async reserveCheck(userId: string, kind: MethodName, at: number, id: string, limits: ReservationLimits): Promise<Reservation> {
    if (this.suspended.has(userId)) return 'suspended';
    const inRow = this.inRow.get(userId) ?? 0;
    if (inRow >= limits.maxConsecutive) return 'window-full';
    if (this.failures.filter((f) => f.userId === userId && f.at >= limits.since).length >= limits.limit) return 'window-full';
    this.failures.push({ userId, kind, at, id });
    this.inRow.set(userId, inRow + 1);
    return 'reserved';
  }

  // Nothing to roll back in memory; what the SQL store gets from its transaction is the
  // one-at-a-time order per user, and that is kept here with a queue.
  async runCheck<T>(userId: string, _at: number, body: (tx: CheckTransaction) => Promise<T>): Promise<T> {
    const before = this.checks.get(userId) ?? Promise.resolve();
    const mine = before.then(() => body({
      store: this,
      state: { suspended: this.suspended.has(userId), failuresInRow: this.inRow.get(userId) ?? 0 },
    }));
    const settled = mine.then(() => {}, () => {});
    this.checks.set(userId, settled);
    try {
      return await mine;
    } finally {
      if (this.checks.get(userId) === settled) this.checks.delete(userId);
    }
  }

  async failedCheck(userId: string, kind: MethodName, at: number, id: string, maxConsecutive: number): Promise<boolean> {
    this.failures.push({ userId, kind, at, id });
    const inRow = (this.inRow.get(userId) ?? 0) + 1;
    this.inRow.set(userId, inRow);
    if (this.suspended.has(userId) || inRow < maxConsecutive) return false;
    this.suspended.set(userId, at);
    return true;
  }

  async resetFailuresInRow(userId: string): Promise<void> {
    this.inRow.set(userId, 0);
  }

  async checkPassed(userId: string, id: string): Promise<void> {
    const i = this.failures.findIndex((f) => f.id === id);
    if (i >= 0) this.failures.splice(i, 1);
    this.inRow.set(userId, 0);
  }

  async checkFailed(userId: string, at: number, maxConsecutive: number): Promise<boolean> {
    if (this.suspended.has(userId) || (this.inRow.get(userId) ?? 0) < maxConsecutive) return false;
    this.suspended.set(userId, at);
    return true;
  }

  async isSuspended(userId: string): Promise<boolean> {
    return this.suspended.has(userId);
  }

  async failureTimes(userId: string, since: number): Promise<number[]> {
    return this.failures.filter((f) => f.userId === userId && f.at >= since).map((f) => f.at);
  }

  async acceptTotpStep(userId: string, step: number): Promise<boolean> {
    const last = this.lastTotpStep.get(userId);
    if (last !== undefined && step <= last) return false;
    this.lastTotpStep.set(userId, step);
    return true;
  }

  async consumeBackupCode(userId: string, codeHash: string): Promise<boolean> {
    return this.backupCodes.get(userId)?.delete(codeHash) ?? false;
  }

  async remember(tokenHash: string, until: number, fingerprint: string): Promise<void> {
    this.remembered.set(tokenHash, { until, fingerprint });
  }

  /** The token as the transports would load it, with what has been remembered for it. */
  callerToken(tokenHash: string): CallerToken {
    const r = this.remembered.get(tokenHash);
    return { tokenHash, twofaUntil: r?.until ?? null, twofaFingerprint: r?.fingerprint ?? null };
  }
}
