// The user's own view of their login tokens (issue 14 §5): where each signed in, when it was
// last used, and signing one out. Off the hot path: the session lookup of every call does not
// read these columns, and the write below happens at most once a minute per token, without
// the call waiting for it.
import type { Kysely } from 'kysely';
import { statement } from './compiled.ts';
import type { Database } from './schema.ts';

export interface LoginSessionRow {
  tokenHash: string;
  createdAt: number;
  lastUsedAt: number | null;
  clientAddress: string | null;
  userAgent: string | null;
}

/** Where a new login token came from, written right after it is issued. */
export async function recordSessionOrigin(db: Kysely<Database>, tokenHash: string, origin: { clientAddress: string; userAgent: string }): Promise<void> {
  await db.updateTable('login_tokens')
    .set({ client_address: origin.clientAddress.slice(0, 128), user_agent: origin.userAgent.slice(0, 512) })
    .where('token_hash', '=', tokenHash).execute();
}

// Written by the first call of each token each minute: compiled once (see compiled.ts).
const touchStatement = statement('mark a token used', (db, p: { tokenHash: string; now: number; staleBefore: number }) =>
  db.updateTable('login_tokens').set({ last_used_at: p.now })
    .where('token_hash', '=', p.tokenHash)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', p.staleBefore)])));

/**
 * Marks a token used at `now`, unless it was marked less than `resolutionMs` ago: the
 * condition makes racing calls (or instances) write once.
 */
export async function touchLoginToken(db: Kysely<Database>, tokenHash: string, now: number, resolutionMs: number): Promise<void> {
  await touchStatement.run(db, { tokenHash, now, staleBefore: now - resolutionMs });
}

/** A user's live login tokens (not personal access tokens), most recently used first, at most `limit`. */
export async function liveLoginSessions(db: Kysely<Database>, userId: string, now: number, limit: number): Promise<LoginSessionRow[]> {
  const rows = await db.selectFrom('login_tokens')
    .select(['token_hash', 'created_at', 'last_used_at', 'client_address', 'user_agent'])
    .where('user_id', '=', userId).where('kind', '=', 'login')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy((eb) => eb.fn.coalesce('last_used_at', 'created_at'), 'desc').orderBy('token_hash')
    .limit(limit).execute();
  return rows.map((r) => ({
    tokenHash: r.token_hash,
    createdAt: Number(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
    clientAddress: r.client_address,
    userAgent: r.user_agent,
  }));
}

/** Every live login token hash of a user: revoking by public id looks the id up among these. */
export async function loginTokenHashes(db: Kysely<Database>, userId: string, now: number): Promise<string[]> {
  const rows = await db.selectFrom('login_tokens').select('token_hash')
    .where('user_id', '=', userId).where('kind', '=', 'login')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)])).execute();
  return rows.map((r) => r.token_hash);
}
