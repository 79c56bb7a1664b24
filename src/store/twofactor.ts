import { sql, type Kysely } from 'kysely';
import type {
  CheckTransaction, LiveEmailCode, MethodName, Reservation, ReservationLimits, TwoFactorStore,
} from '../core/twofactor/types.ts';
import { insertAuditEvent } from './audit.ts';
import { statement } from './compiled.ts';
import type { StoreKind } from './database.ts';
import type { Database } from './schema.ts';
import { TokenStore } from './tokens.ts';
import { UserStore } from './users.ts';

// The statements of a successful code check (and the state lock of every check), compiled once
// (see compiled.ts). Each is the one its method below would build.
const lockStateStatement = statement('lock check state', (db, p: { userId: string }) =>
  db.insertInto('twofa_user_state').values({ user_id: p.userId, failures_in_row: sql.lit(0), enrol_failures: sql.lit(0), recovery_attempts: sql.lit(0) })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ failures_in_row: (eb) => eb.ref('twofa_user_state.failures_in_row') }))
    .returningAll());
const readStateStatement = statement('read check state', (db, p: { userId: string }) =>
  db.selectFrom('twofa_user_state').select(['failures_in_row', 'suspended_at']).where('user_id', '=', p.userId));
const countFailuresStatement = statement('count failures', (db, p: { userId: string; since: number }) =>
  db.selectFrom('twofa_failures').select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('user_id', '=', p.userId).where('at', '>=', p.since));
const countFailuresOfKindStatement = statement('count failures of a kind', (db, p: { userId: string; since: number; kind: MethodName }) =>
  db.selectFrom('twofa_failures').select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('user_id', '=', p.userId).where('at', '>=', p.since).where('kind', '=', p.kind));
const resetFailuresStatement = statement('reset failures in a row', (db, p: { userId: string }) =>
  db.updateTable('twofa_user_state').set({ failures_in_row: sql.lit(0) }).where('user_id', '=', p.userId));
const liveEmailCodesStatement = statement('live email codes', (db, p: { userId: string; now: number }) =>
  db.selectFrom('email_codes').select(['id', 'code_hash', 'created_at', 'expires_at'])
    .where('user_id', '=', p.userId).where('expires_at', '>', p.now).orderBy('created_at').orderBy('id'));
const deleteEmailCodeStatement = statement('delete an email code', (db, p: { id: string; userId: string }) =>
  db.deleteFrom('email_codes').where('id', '=', p.id).where('user_id', '=', p.userId));
const deleteOlderEmailCodesStatement = statement('delete older email codes', (db, p: { userId: string; createdAt: number }) =>
  db.deleteFrom('email_codes').where('user_id', '=', p.userId).where('created_at', '<=', p.createdAt));
// A wrong code: its failure row, one more in a row, and the suspension when that reaches the limit.
const insertFailureStatement = statement('record a failure', (db, p: { id: string; userId: string; kind: MethodName; at: number }) =>
  db.insertInto('twofa_failures').values({ id: p.id, user_id: p.userId, kind: p.kind, at: p.at }));
// An upsert: on SQLite a check reads the state without writing it (see runCheck), so a user's
// first failure may find no row yet.
const countFailureInRowStatement = statement('one more failure in a row', (db, p: { userId: string }) =>
  db.insertInto('twofa_user_state').values({ user_id: p.userId, failures_in_row: sql.lit(1), enrol_failures: sql.lit(0), recovery_attempts: sql.lit(0) })
    .onConflict((oc) => oc.column('user_id').doUpdateSet((eb) => ({ failures_in_row: eb('twofa_user_state.failures_in_row', '+', sql.lit(1)) })))
    .returning(['failures_in_row', 'suspended_at']));
const suspendStatement = statement('suspend', (db, p: { userId: string; at: number }) =>
  db.updateTable('twofa_user_state').set({ suspended_at: p.at }).where('user_id', '=', p.userId));
const consumeBackupCodeStatement = statement('consume a backup code', (db, p: { userId: string; codeHash: string }) =>
  db.deleteFrom('backup_codes').where('user_id', '=', p.userId).where('code_hash', '=', p.codeHash));

export class SqlTwoFactorStore implements TwoFactorStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly users: UserStore,
    private readonly tokens: TokenStore,
    private readonly kind: StoreKind = 'postgres',
  ) {}

  /**
   * `work` in one transaction: its own, or the one this store is already bound to (inside
   * `runCheck`), since a transaction cannot be opened inside another.
   */
  private atomic<T>(work: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.db.isTransaction ? work(this.db) : this.db.transaction().execute(work);
  }

  async liveEmailCodes(userId: string, now: number): Promise<LiveEmailCode[]> {
    const { rows } = await liveEmailCodesStatement.run(this.db, { userId, now });
    return rows.map((r) => ({ id: r.id, codeHash: r.code_hash, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) }));
  }

  async addEmailCode(userId: string, code: LiveEmailCode, maxLive: number, now: number): Promise<void> {
    await this.atomic(async (tx) => {
      await tx.deleteFrom('email_codes').where('user_id', '=', userId).where('expires_at', '<=', now).execute();
      await tx.insertInto('email_codes').values({
        id: code.id, user_id: userId, code_hash: code.codeHash, created_at: code.createdAt, expires_at: code.expiresAt,
      }).execute();
      const keep = await tx.selectFrom('email_codes').select('id').where('user_id', '=', userId)
        .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(maxLive).execute();
      await tx.deleteFrom('email_codes').where('user_id', '=', userId)
        .where('id', 'not in', keep.map((k) => k.id)).execute();
    });
  }

  async consumeEmailCode(userId: string, code: LiveEmailCode): Promise<boolean> {
    // The DELETE of the matched row decides the race: only one caller sees a deleted row.
    return this.atomic(async (tx) => {
      const r = await deleteEmailCodeStatement.run(tx, { id: code.id, userId });
      if (Number(r.numAffectedRows) !== 1) return false;
      await deleteOlderEmailCodesStatement.run(tx, { userId, createdAt: code.createdAt });
      return true;
    });
  }

  /** Forgets every failed check of the user (an admin reset): a lockout earned with a lost factor ends. */
  async clearFailures(userId: string): Promise<void> {
    await this.db.deleteFrom('twofa_failures').where('user_id', '=', userId).execute();
  }

  async dropEmailCodes(userId: string): Promise<void> {
    await this.db.deleteFrom('email_codes').where('user_id', '=', userId).execute();
  }

  async recordFailure(userId: string, kind: MethodName, at: number, id: string): Promise<void> {
    await insertFailureStatement.run(this.db, { id, userId, kind, at });
  }

  async countFailures(userId: string, since: number, kind?: MethodName): Promise<number> {
    const { rows } = kind
      ? await countFailuresOfKindStatement.run(this.db, { userId, since, kind })
      : await countFailuresStatement.run(this.db, { userId, since });
    return Number(rows[0]!.n);
  }

  /**
   * Locks the user's state row, creating it if new, and returns it. The upsert is a write:
   * on PostgreSQL it takes the row lock, so a second transaction waits here until the first
   * commits and then reads what it wrote; on SQLite it takes the database's write lock
   * before anything is read, so the read is never of a stale snapshot.
   */
  private async lockState(tx: Kysely<Database>, userId: string) {
    // One statement: the upsert returns the row it locked.
    const row = (await lockStateStatement.run(tx, { userId })).rows[0];
    if (!row) throw new Error('the check state upsert returned no row');
    return row;
  }

  /**
   * The whole check in one transaction under the user's lock (see the engine's guardedCheck):
   * the body gets this store bound to the transaction and an audit trail that writes in it.
   * On SQLite the transaction is a savepoint in the group commit's batch, committed with the
   * other checks of the same event-loop turn.
   */
  async runCheck<T>(userId: string, at: number, body: (tx: CheckTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      // SQLite: the transaction already holds the database's write lock (the group commit's
      // batch began with BEGIN IMMEDIATE, and this process runs one transaction at a time), so
      // a plain read is as good as the lock, and a check that passes writes no state row
      // (a page less in every COMMIT). PostgreSQL: the upsert takes the row lock.
      const state = this.kind === 'sqlite'
        ? (await readStateStatement.run(trx, { userId })).rows[0] ?? { failures_in_row: 0, suspended_at: null }
        : await this.lockState(trx, userId);
      return body({
        store: new SqlTwoFactorStore(trx, new UserStore(trx), new TokenStore(trx), this.kind),
        state: { suspended: state.suspended_at !== null, failuresInRow: Number(state.failures_in_row) },
        audit: (event) => insertAuditEvent(trx, event, at),
      });
    });
  }

  async failedCheck(userId: string, kind: MethodName, at: number, id: string, maxConsecutive: number): Promise<boolean> {
    return this.atomic(async (tx) => {
      await insertFailureStatement.run(tx, { id, userId, kind, at });
      const row = (await countFailureInRowStatement.run(tx, { userId })).rows[0];
      if (!row) throw new Error('no check state to count the failure in');
      if (row.suspended_at !== null || Number(row.failures_in_row) < maxConsecutive) return false;
      await suspendStatement.run(tx, { userId, at });
      return true;
    });
  }

  async resetFailuresInRow(userId: string): Promise<void> {
    await resetFailuresStatement.run(this.db, { userId });
  }

  async reserveCheck(userId: string, kind: MethodName, at: number, id: string, limits: ReservationLimits): Promise<Reservation> {
    return this.atomic(async (tx) => {
      const state = await this.lockState(tx, userId);
      if (state.suspended_at !== null) return 'suspended';
      // The last checks before a suspension are in flight: wait for their outcome.
      if (Number(state.failures_in_row) >= limits.maxConsecutive) return 'window-full';
      const n = await tx.selectFrom('twofa_failures').select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('user_id', '=', userId).where('at', '>=', limits.since).executeTakeFirstOrThrow();
      if (Number(n.n) >= limits.limit) return 'window-full';
      await tx.insertInto('twofa_failures').values({ id, user_id: userId, kind, at }).execute();
      await tx.updateTable('twofa_user_state').set((eb) => ({ failures_in_row: eb('failures_in_row', '+', 1) }))
        .where('user_id', '=', userId).execute();
      return 'reserved';
    });
  }

  async checkPassed(userId: string, id: string): Promise<void> {
    await this.atomic(async (tx) => {
      await tx.deleteFrom('twofa_failures').where('id', '=', id).execute();
      await tx.updateTable('twofa_user_state').set({ failures_in_row: 0 }).where('user_id', '=', userId).execute();
    });
  }

  async checkFailed(userId: string, at: number, maxConsecutive: number): Promise<boolean> {
    const r = await this.db.updateTable('twofa_user_state').set({ suspended_at: at })
      .where('user_id', '=', userId).where('suspended_at', 'is', null).where('failures_in_row', '>=', maxConsecutive)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async isSuspended(userId: string): Promise<boolean> {
    const row = await this.db.selectFrom('twofa_user_state').select('suspended_at').where('user_id', '=', userId).executeTakeFirst();
    return row !== undefined && row.suspended_at !== null;
  }

  /** Ends a suspension (admin reset or recovery code); true when there was one. */
  async liftSuspension(userId: string): Promise<boolean> {
    const r = await this.db.updateTable('twofa_user_state')
      .set({ suspended_at: null, failures_in_row: 0, recovery_hash: null, recovery_expires_at: null, recovery_attempts: 0 })
      .where('user_id', '=', userId).where('suspended_at', 'is not', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Stores the hash of a new recovery code (replacing any), only while the user is suspended. */
  async setRecoveryCode(userId: string, codeHash: string, expiresAt: number): Promise<boolean> {
    const r = await this.db.updateTable('twofa_user_state').set({ recovery_hash: codeHash, recovery_expires_at: expiresAt, recovery_attempts: 0 })
      .where('user_id', '=', userId).where('suspended_at', 'is not', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * One try of a recovery code, counted before it is compared (under the row lock): at most
   * `maxAttempts` comparisons per code, then it is burnt. A match lifts the suspension.
   */
  async tryRecoveryCode(userId: string, matches: (codeHash: string) => boolean, now: number, maxAttempts: number): Promise<boolean> {
    return this.atomic(async (tx) => {
      const state = await this.lockState(tx, userId);
      if (state.suspended_at === null || state.recovery_hash === null || Number(state.recovery_expires_at) <= now
        || Number(state.recovery_attempts) >= maxAttempts) return false;
      if (matches(state.recovery_hash)) {
        await tx.updateTable('twofa_user_state')
          .set({ suspended_at: null, failures_in_row: 0, recovery_hash: null, recovery_expires_at: null, recovery_attempts: 0 })
          .where('user_id', '=', userId).execute();
        return true;
      }
      const attempts = Number(state.recovery_attempts) + 1;
      await tx.updateTable('twofa_user_state')
        .set(attempts >= maxAttempts ? { recovery_hash: null, recovery_expires_at: null, recovery_attempts: 0 } : { recovery_attempts: attempts })
        .where('user_id', '=', userId).execute();
      return false;
    });
  }

  /**
   * Counts a wrong enrolment code against the pending secret it was checked with; the
   * `maxAttempts`-th burns that secret (a new `users.totp.enable` is needed). True when burnt.
   */
  async enrolmentFailed(userId: string, sealedPending: string, maxAttempts: number): Promise<boolean> {
    return this.atomic(async (tx) => {
      const state = await this.lockState(tx, userId);
      const failures = Number(state.enrol_failures) + 1;
      if (failures < maxAttempts) {
        await tx.updateTable('twofa_user_state').set({ enrol_failures: failures }).where('user_id', '=', userId).execute();
        return false;
      }
      await tx.updateTable('twofa_user_state').set({ enrol_failures: 0 }).where('user_id', '=', userId).execute();
      const r = await tx.updateTable('users').set({ totp_pending_secret: null })
        .where('id', '=', userId).where('totp_pending_secret', '=', sealedPending).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  async failureTimes(userId: string, since: number): Promise<number[]> {
    const rows = await this.db.selectFrom('twofa_failures').select('at').where('user_id', '=', userId).where('at', '>=', since).execute();
    return rows.map((r) => Number(r.at));
  }

  acceptTotpStep(userId: string, step: number): Promise<boolean> {
    return this.users.acceptTotpStep(userId, step);
  }

  async consumeBackupCode(userId: string, codeHash: string): Promise<boolean> {
    const r = await consumeBackupCodeStatement.run(this.db, { userId, codeHash });
    return Number(r.numAffectedRows) === 1;
  }

  async replaceBackupCodes(userId: string, codeHashes: string[]): Promise<void> {
    await this.atomic(async (tx) => {
      await tx.deleteFrom('backup_codes').where('user_id', '=', userId).execute();
      if (codeHashes.length) await tx.insertInto('backup_codes').values(codeHashes.map((h) => ({ user_id: userId, code_hash: h }))).execute();
    });
  }

  /**
   * Stores a new pending secret while TOTP is off. The last accepted step is cleared: it
   * guarded codes of a secret that is gone, and would refuse the new one's first code.
   */
  async startTotpEnrolment(userId: string, sealedSecret: string): Promise<boolean> {
    return this.atomic(async (tx) => {
      // A new secret starts with a full allowance of enrolment tries. The state row is
      // locked before the user row, in the order enrolmentFailed takes them: no deadlock.
      await tx.updateTable('twofa_user_state').set({ enrol_failures: 0 }).where('user_id', '=', userId).execute();
      const r = await tx.updateTable('users').set({ totp_pending_secret: sealedSecret, totp_last_step: null })
        .where('id', '=', userId).where('totp_enabled', '=', 0).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  /**
   * Turns the pending secret that was checked into the live one, with its backup codes.
   * Conditional on that very pending secret, so a concurrent enrolment or validation
   * cannot leave codes that belong to another secret.
   */
  async activateTotp(userId: string, sealedPending: string, codeHashes: string[]): Promise<boolean> {
    return this.atomic(async (tx) => {
      const r = await tx.updateTable('users')
        .set((eb) => ({ totp_secret: eb.ref('totp_pending_secret'), totp_pending_secret: null, totp_enabled: 1 }))
        .where('id', '=', userId).where('totp_enabled', '=', 0).where('totp_pending_secret', '=', sealedPending)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await tx.deleteFrom('backup_codes').where('user_id', '=', userId).execute();
      if (codeHashes.length) await tx.insertInto('backup_codes').values(codeHashes.map((h) => ({ user_id: userId, code_hash: h }))).execute();
      return true;
    });
  }

  /** Forgets the secret (live or pending) and the backup codes; true when there was one. */
  async turnOffTotp(userId: string): Promise<boolean> {
    return this.atomic(async (tx) => {
      const r = await tx.updateTable('users').set({ totp_enabled: 0, totp_secret: null, totp_pending_secret: null })
        .where('id', '=', userId)
        .where((eb) => eb.or([eb('totp_enabled', '=', 1), eb('totp_secret', 'is not', null), eb('totp_pending_secret', 'is not', null)]))
        .executeTakeFirst();
      await tx.deleteFrom('backup_codes').where('user_id', '=', userId).execute();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  async countBackupCodes(userId: string): Promise<number> {
    const r = await this.db.selectFrom('backup_codes').select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('user_id', '=', userId).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async forgetDevices(userId: string): Promise<number> {
    const r = await this.db.deleteFrom('remembered_devices').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  remember(tokenHash: string, until: number, fingerprint: string): Promise<void> {
    return this.tokens.remember(tokenHash, until, fingerprint);
  }

  async purgeExpired(now: number, failureWindowMs: number): Promise<void> {
    await this.db.deleteFrom('email_codes').where('expires_at', '<=', now).execute();
    await this.db.deleteFrom('twofa_failures').where('at', '<', now - failureWindowMs).execute();
  }
}
