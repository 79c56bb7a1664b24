import type { Kysely } from 'kysely';
import type { User } from '../core/accounts.ts';
import { statement } from './compiled.ts';
import type { Database } from './schema.ts';
import { toToken, type LoginToken } from './tokens.ts';
import { toUser } from './users.ts';

/**
 * The token, its user and the user's emails in one statement: authentication runs on every
 * call, and three round trips through the query layer cost more than the rest of a cheap
 * call (bench). One row per email; the LEFT JOIN keeps the user who has none. Plain joins,
 * so the same SQL serves SQLite and PostgreSQL.
 */
function sessionQuery(db: Kysely<Database>, tokenHash: string, now: number) {
  return db.selectFrom('login_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .leftJoin('user_emails as e', 'e.user_id', 'u.id')
    .select([
      't.token_hash', 't.user_id', 't.kind', 't.name as token_name', 't.bypass_2fa', 't.created_at as token_created_at',
      't.expires_at', 't.twofa_until', 't.twofa_fingerprint', 't.last_token_part',
      'u.id', 'u.username', 'u.username_lower', 'u.name', 'u.password_hash', 'u.roles', 'u.active', 'u.require_password_change',
      'u.created_at', 'u.email2fa_enabled', 'u.totp_enabled', 'u.totp_secret', 'u.totp_pending_secret', 'u.totp_last_step',
      'u.session_version', 'e.address', 'e.verified',
    ])
    // The passkey count decides whether `webauthn` is offered; a subquery keeps it one statement.
    .select((eb) => eb.selectFrom('webauthn_credentials as w').select((w) => w.fn.countAll().as('n'))
      .whereRef('w.user_id', '=', 'u.id').as('webauthn_count'))
    .where('t.token_hash', '=', tokenHash)
    .where((eb) => eb.or([eb('t.expires_at', 'is', null), eb('t.expires_at', '>', now)]))
    .orderBy('e.created_at').orderBy('e.address_lower');
}

// Built and compiled once: building the query costs about as much as running it.
const sessionStatement = statement('session lookup', (db, p: { tokenHash: string; now: number }) => sessionQuery(db, p.tokenHash, p.now));

export interface LiveSession {
  token: LoginToken;
  user: User;
}

export async function findLiveSession(db: Kysely<Database>, tokenHash: string, now: number): Promise<LiveSession | null> {
  return (await readLiveSession(db, tokenHash, now))?.session ?? null;
}

/**
 * As findLiveSession, with the user's `session_version` read in the same statement: on
 * PostgreSQL, triggers bump it with every change to what the session holds (migration 0009),
 * so a copy kept in memory is still good exactly while the version is unchanged.
 */
export async function readLiveSession(db: Kysely<Database>, tokenHash: string, now: number): Promise<{ session: LiveSession; version: number } | null> {
  const { rows } = await sessionStatement.run(db, { tokenHash, now });
  const first = rows[0];
  if (!first) return null;
  const token = toToken({ ...first, name: first.token_name, created_at: first.token_created_at });
  const emails = rows.flatMap((r) => (r.address === null || r.verified === null ? [] : [{ address: r.address, verified: r.verified }]));
  return { session: { token, user: toUser(first, emails, Number(first.webauthn_count ?? 0)) }, version: Number(first.session_version) };
}

const versionStatement = statement('session version', (db, p: { userId: string }) =>
  db.selectFrom('users').select('session_version').where('id', '=', p.userId));

/** The user's session version (PostgreSQL: bumped by every change to a session of theirs), or null when the user is gone. */
export async function sessionVersion(db: Kysely<Database>, userId: string): Promise<number | null> {
  const { rows } = await versionStatement.run(db, { userId });
  return rows[0] ? Number(rows[0].session_version) : null;
}
