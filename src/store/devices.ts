// Remembered devices (issue 14 §4): the browsers a user let skip the sign-in's second factor.
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export interface RememberedDevice {
  id: string;
  tokenHash: string;
  userId: string;
  fingerprint: string;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number;
  clientAddress: string | null;
  userAgent: string | null;
}

type Row = Database['remembered_devices'];

const toDevice = (r: Row): RememberedDevice => ({
  id: r.id,
  tokenHash: r.token_hash,
  userId: r.user_id,
  fingerprint: r.fingerprint,
  createdAt: Number(r.created_at),
  lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  expiresAt: Number(r.expires_at),
  clientAddress: r.client_address,
  userAgent: r.user_agent,
});

export class DeviceStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Adds a device; beyond `maxPerUser` live ones the oldest are forgotten, so a user's list stays bounded. */
  async insert(d: Omit<RememberedDevice, 'lastUsedAt'>, maxPerUser: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('remembered_devices').values({
        id: d.id, token_hash: d.tokenHash, user_id: d.userId, fingerprint: d.fingerprint, created_at: d.createdAt,
        last_used_at: null, expires_at: d.expiresAt,
        client_address: d.clientAddress?.slice(0, 128) ?? null, user_agent: d.userAgent?.slice(0, 512) ?? null,
      }).execute();
      const keep = await tx.selectFrom('remembered_devices').select('id').where('user_id', '=', d.userId)
        .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(maxPerUser).execute();
      await tx.deleteFrom('remembered_devices').where('user_id', '=', d.userId)
        .where('id', 'not in', keep.map((k) => k.id)).execute();
    });
  }

  async byTokenHash(tokenHash: string): Promise<RememberedDevice | null> {
    const r = await this.db.selectFrom('remembered_devices').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return r ? toDevice(r) : null;
  }

  async touch(id: string, now: number): Promise<void> {
    await this.db.updateTable('remembered_devices').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  /** A user's unexpired devices, most recently used first. */
  async live(userId: string, now: number, limit: number): Promise<RememberedDevice[]> {
    const rows = await this.db.selectFrom('remembered_devices').selectAll()
      .where('user_id', '=', userId).where('expires_at', '>', now)
      .orderBy((eb) => eb.fn.coalesce('last_used_at', 'created_at'), 'desc').orderBy('id')
      .limit(limit).execute();
    return rows.map(toDevice);
  }

  async remove(userId: string, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('remembered_devices').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async removeAllOfUser(userId: string): Promise<number> {
    const r = await this.db.deleteFrom('remembered_devices').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('remembered_devices').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
