import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

// The pending email-verification links: only a keyed hash of each token is kept.

export async function insertEmailVerification(
  db: Kysely<Database>, row: { tokenHash: string; userId: string; address: string; expiresAt: number },
): Promise<void> {
  await db.insertInto('email_verifications').values({
    token_hash: row.tokenHash, user_id: row.userId, address_lower: row.address.toLowerCase(), expires_at: row.expiresAt,
  }).execute();
}

/** Deletes the link and returns it, so a token is spent by the one request that read it. */
export async function takeEmailVerification(db: Kysely<Database>, tokenHash: string): Promise<{ userId: string; address: string; expiresAt: number } | null> {
  const row = await db.deleteFrom('email_verifications').where('token_hash', '=', tokenHash)
    .returning(['user_id', 'address_lower', 'expires_at']).executeTakeFirst();
  return row ? { userId: row.user_id, address: row.address_lower, expiresAt: Number(row.expires_at) } : null;
}

export async function purgeExpiredEmailVerifications(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('email_verifications').where('expires_at', '<=', now).execute();
}
