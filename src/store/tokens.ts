import type { Kysely, Selectable } from 'kysely';
import { statement } from './compiled.ts';
import type { Database, LoginTokensTable } from './schema.ts';

export interface LoginToken {
  tokenHash: string;
  userId: string;
  kind: 'login' | 'pat';
  name: string | null;
  bypass2fa: boolean;
  createdAt: number;
  expiresAt: number | null;
  twofaUntil: number | null;
  twofaFingerprint: string | null;
  lastTokenPart: string | null;
}

// The session list's columns (last used, address, agent) are not needed to authenticate a call.
export const toToken = (r: Omit<Selectable<LoginTokensTable>, 'last_used_at' | 'client_address' | 'user_agent'>): LoginToken => ({
  tokenHash: r.token_hash,
  userId: r.user_id,
  kind: r.kind === 'pat' ? 'pat' : 'login',
  name: r.name,
  bypass2fa: r.bypass_2fa === 1,
  createdAt: Number(r.created_at),
  expiresAt: r.expires_at === null ? null : Number(r.expires_at),
  twofaUntil: r.twofa_until === null ? null : Number(r.twofa_until),
  twofaFingerprint: r.twofa_fingerprint,
  lastTokenPart: r.last_token_part ?? null,
});

// On the path of every code check that is remembered: compiled once (see compiled.ts).
const rememberStatement = statement('remember a checked token', (db, p: { tokenHash: string; until: number; fingerprint: string }) =>
  db.updateTable('login_tokens').set({ twofa_until: p.until, twofa_fingerprint: p.fingerprint }).where('token_hash', '=', p.tokenHash));

export class TokenStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(t: Omit<LoginToken, 'twofaUntil' | 'twofaFingerprint' | 'lastTokenPart'> & Partial<Pick<LoginToken, 'twofaUntil' | 'twofaFingerprint' | 'lastTokenPart'>>): Promise<void> {
    await this.db.insertInto('login_tokens').values({
      token_hash: t.tokenHash, user_id: t.userId, kind: t.kind, name: t.name, bypass_2fa: t.bypass2fa ? 1 : 0,
      created_at: t.createdAt, expires_at: t.expiresAt,
      twofa_until: t.twofaUntil ?? null, twofa_fingerprint: t.twofaFingerprint ?? null,
      last_token_part: t.lastTokenPart ?? null,
    }).execute();
  }

  /** A token that exists and has not expired at `now`. */
  async findLive(tokenHash: string, now: number): Promise<LoginToken | null> {
    const r = await this.db.selectFrom('login_tokens').selectAll().where('token_hash', '=', tokenHash)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)])).executeTakeFirst();
    return r ? toToken(r) : null;
  }

  async remove(tokenHash: string): Promise<boolean> {
    const r = await this.db.deleteFrom('login_tokens').where('token_hash', '=', tokenHash).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Logs a user out everywhere, except the token given (the caller's own session). */
  async removeLoginTokensOfUser(userId: string, exceptTokenHash?: string): Promise<number> {
    let q = this.db.deleteFrom('login_tokens').where('user_id', '=', userId).where('kind', '=', 'login');
    if (exceptTokenHash) q = q.where('token_hash', '!=', exceptTokenHash);
    const r = await q.executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * Revokes every token of a user — logins and personal access tokens alike — except the
   * login token given (the session of a user who made the change themself). A personal
   * access token is never kept, even when it is the credential the change was made with.
   */
  async revokeAllOfUser(userId: string, keepLoginTokenHash?: string): Promise<number> {
    let q = this.db.deleteFrom('login_tokens').where('user_id', '=', userId);
    if (keepLoginTokenHash) q = q.where((eb) => eb.or([eb('token_hash', '!=', keepLoginTokenHash), eb('kind', '!=', 'login')]));
    const r = await q.executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async personalTokens(userId: string): Promise<LoginToken[]> {
    const rows = await this.db.selectFrom('login_tokens').selectAll()
      .where('user_id', '=', userId).where('kind', '=', 'pat').orderBy('created_at').execute();
    return rows.map(toToken);
  }

  async removePersonalToken(userId: string, name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('login_tokens')
      .where('user_id', '=', userId).where('kind', '=', 'pat').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async remember(tokenHash: string, until: number, fingerprint: string): Promise<void> {
    await rememberStatement.run(this.db, { tokenHash, until, fingerprint });
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('login_tokens').where('expires_at', 'is not', null).where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
