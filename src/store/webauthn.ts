import type { Kysely } from 'kysely';
import type { StoredPasskey, WebAuthnStore } from '../core/twofactor/webauthn-types.ts';
import type { Database, WebauthnCredentialsTable } from './schema.ts';

const toPasskey = (r: WebauthnCredentialsTable): StoredPasskey => ({
  id: r.id,
  userId: r.user_id,
  credentialId: r.credential_id,
  publicKey: r.public_key,
  counter: Number(r.counter),
  transports: JSON.parse(r.transports) as string[],
  name: r.name,
  createdAt: Number(r.created_at),
  lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
});

/** Passkeys and the challenges handed out for them. */
export class SqlWebAuthnStore implements WebAuthnStore {
  constructor(private readonly db: Kysely<Database>) {}

  async list(userId: string): Promise<StoredPasskey[]> {
    const rows = await this.db.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', userId)
      .orderBy('created_at').orderBy('id').execute();
    return rows.map(toPasskey);
  }

  async byCredentialId(userId: string, credentialId: string): Promise<StoredPasskey | null> {
    const row = await this.db.selectFrom('webauthn_credentials').selectAll()
      .where('user_id', '=', userId).where('credential_id', '=', credentialId).executeTakeFirst();
    return row ? toPasskey(row) : null;
  }

  /** False when the credential is already registered (to anyone) or the user has `max` already. */
  async add(p: StoredPasskey, max: number): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      // Under the user's row lock on PostgreSQL (SQLite transactions are serial), so two
      // registrations at once cannot pass the limit together.
      await tx.updateTable('users').set((eb) => ({ id: eb.ref('id') })).where('id', '=', p.userId).execute();
      const count = await tx.selectFrom('webauthn_credentials').select((eb) => eb.fn.countAll().as('n'))
        .where('user_id', '=', p.userId).executeTakeFirst();
      if (Number(count?.n ?? 0) >= max) return false;
      const taken = await tx.selectFrom('webauthn_credentials').select('id').where('credential_id', '=', p.credentialId).executeTakeFirst();
      if (taken) return false;
      await tx.insertInto('webauthn_credentials').values({
        id: p.id, user_id: p.userId, credential_id: p.credentialId, public_key: p.publicKey, counter: p.counter,
        transports: JSON.stringify(p.transports), name: p.name, created_at: p.createdAt, last_used_at: null,
      }).execute();
      return true;
    });
  }

  async remove(userId: string, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('webauthn_credentials').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async removeAll(userId: string): Promise<number> {
    const r = await this.db.deleteFrom('webauthn_credentials').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * Records a use: the counter moves only forward (a counter of 0 means the authenticator
   * keeps none). False when another use got there first with the same or a higher counter.
   */
  async used(id: string, oldCounter: number, newCounter: number, now: number): Promise<boolean> {
    let q = this.db.updateTable('webauthn_credentials').set({ counter: newCounter, last_used_at: now }).where('id', '=', id);
    if (newCounter !== 0 || oldCounter !== 0) q = q.where('counter', '<', newCounter);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Keeps at most `maxLive` live challenges of the user and purpose (the oldest go). */
  async addChallenge(userId: string, purpose: 'register' | 'authenticate', challenge: string, expiresAt: number, now: number, maxLive: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('webauthn_challenges').where('user_id', '=', userId).where('expires_at', '<=', now).execute();
      await tx.insertInto('webauthn_challenges').values({ challenge, user_id: userId, purpose, expires_at: expiresAt }).execute();
      const live = await tx.selectFrom('webauthn_challenges').select('challenge').where('user_id', '=', userId)
        .where('purpose', '=', purpose).orderBy('expires_at', 'desc').orderBy('challenge').execute();
      const stale = live.slice(maxLive).map((r) => r.challenge);
      if (stale.length) await tx.deleteFrom('webauthn_challenges').where('challenge', 'in', stale).execute();
    });
  }

  /** Challenges nobody answered in time (a new one for the same user also clears them). */
  async purgeExpired(now: number): Promise<void> {
    await this.db.deleteFrom('webauthn_challenges').where('expires_at', '<=', now).execute();
  }

  /** True for exactly one caller: the one whose delete removed the live challenge. */
  async consumeChallenge(userId: string, purpose: 'register' | 'authenticate', challenge: string, now: number): Promise<boolean> {
    const r = await this.db.deleteFrom('webauthn_challenges').where('challenge', '=', challenge)
      .where('user_id', '=', userId).where('purpose', '=', purpose).where('expires_at', '>', now).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }
}
