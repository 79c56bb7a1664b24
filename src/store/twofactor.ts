import type { Kysely } from 'kysely';
import type { LiveEmailCode, MethodName, TwoFactorStore } from '../core/twofactor/types.ts';
import type { Database } from './schema.ts';
import type { TokenStore } from './tokens.ts';
import type { UserStore } from './users.ts';

export class SqlTwoFactorStore implements TwoFactorStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly users: UserStore,
    private readonly tokens: TokenStore,
  ) {}

  async liveEmailCodes(userId: string, now: number): Promise<LiveEmailCode[]> {
    const rows = await this.db.selectFrom('email_codes').select(['id', 'code_hash', 'created_at', 'expires_at'])
      .where('user_id', '=', userId).where('expires_at', '>', now).orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, codeHash: r.code_hash, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) }));
  }

  async addEmailCode(userId: string, code: LiveEmailCode, maxLive: number, now: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
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
    return this.db.transaction().execute(async (tx) => {
      const r = await tx.deleteFrom('email_codes').where('id', '=', code.id).where('user_id', '=', userId).executeTakeFirst();
      if (Number(r.numDeletedRows) !== 1) return false;
      await tx.deleteFrom('email_codes').where('user_id', '=', userId).where('created_at', '<=', code.createdAt).execute();
      return true;
    });
  }

  async dropEmailCodes(userId: string): Promise<void> {
    await this.db.deleteFrom('email_codes').where('user_id', '=', userId).execute();
  }

  async recordFailure(userId: string, kind: MethodName, at: number, id: string): Promise<void> {
    await this.db.insertInto('twofa_failures').values({ id, user_id: userId, kind, at }).execute();
  }

  async countFailures(userId: string, since: number, kind?: MethodName): Promise<number> {
    let q = this.db.selectFrom('twofa_failures').select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('user_id', '=', userId).where('at', '>=', since);
    if (kind) q = q.where('kind', '=', kind);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  async failureTimes(userId: string, since: number): Promise<number[]> {
    const rows = await this.db.selectFrom('twofa_failures').select('at').where('user_id', '=', userId).where('at', '>=', since).execute();
    return rows.map((r) => Number(r.at));
  }

  acceptTotpStep(userId: string, step: number): Promise<boolean> {
    return this.users.acceptTotpStep(userId, step);
  }

  async consumeBackupCode(userId: string, codeHash: string): Promise<boolean> {
    const r = await this.db.deleteFrom('backup_codes').where('user_id', '=', userId).where('code_hash', '=', codeHash).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async replaceBackupCodes(userId: string, codeHashes: string[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('backup_codes').where('user_id', '=', userId).execute();
      if (codeHashes.length) await tx.insertInto('backup_codes').values(codeHashes.map((h) => ({ user_id: userId, code_hash: h }))).execute();
    });
  }

  /**
   * Stores a new pending secret while TOTP is off. The last accepted step is cleared: it
   * guarded codes of a secret that is gone, and would refuse the new one's first code.
   */
  async startTotpEnrolment(userId: string, sealedSecret: string): Promise<boolean> {
    const r = await this.db.updateTable('users').set({ totp_pending_secret: sealedSecret, totp_last_step: null })
      .where('id', '=', userId).where('totp_enabled', '=', 0).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Turns the pending secret that was checked into the live one, with its backup codes.
   * Conditional on that very pending secret, so a concurrent enrolment or validation
   * cannot leave codes that belong to another secret.
   */
  async activateTotp(userId: string, sealedPending: string, codeHashes: string[]): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
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
    return this.db.transaction().execute(async (tx) => {
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

  remember(tokenHash: string, until: number, fingerprint: string): Promise<void> {
    return this.tokens.remember(tokenHash, until, fingerprint);
  }

  async purgeExpired(now: number, failureWindowMs: number): Promise<void> {
    await this.db.deleteFrom('email_codes').where('expires_at', '<=', now).execute();
    await this.db.deleteFrom('twofa_failures').where('at', '<', now - failureWindowMs).execute();
  }
}
