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
