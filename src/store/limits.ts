import type { Kysely, Transaction } from 'kysely';
import { judge, longestWindowMs, retainHits, type RateBucket, type RateKey, type RateVerdict } from '../core/twofactor/limits.ts';
import type { Database } from './schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

const PURGE_EVERY_MS = 10 * 60_000;

const keyOrder = (a: RateKey, b: RateKey) => (a.bucket === b.bucket ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.bucket < b.bucket ? -1 : 1);

function parseHits(text: string): number[] {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.filter((n): n is number => typeof n === 'number' && Number.isFinite(n)) : [];
  } catch {
    return [];
  }
}

/**
 * The limit rows of spec §3.6, shared by every instance on the database. Reading and
 * counting happen under the row's lock, so two instances can never both take the last slot.
 */
export class RateLimitStore {
  private lastPurge = 0;

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Locks the row of a key (creating it if new) and returns its hits. On PostgreSQL the
   * upsert takes the row lock; a second transaction waits here until the first commits and
   * then reads what it wrote. SQLite runs one write transaction at a time anyway.
   */
  private async lockHits(tx: Db, bucket: string, key: string, now: number): Promise<number[]> {
    await tx.insertInto('rate_limits').values({ bucket, key, hits: '[]', expires_at: now })
      .onConflict((oc) => oc.columns(['bucket', 'key']).doUpdateSet({ expires_at: (eb) => eb.ref('rate_limits.expires_at') }))
      .execute();
    const row = await tx.selectFrom('rate_limits').select('hits').where('bucket', '=', bucket).where('key', '=', key).executeTakeFirstOrThrow();
    return parseHits(row.hits);
  }

  private async writeHits(tx: Db, key: RateKey, hits: number[], now: number): Promise<void> {
    const kept = retainHits(hits, key.rules, now);
    const expiresAt = (kept[kept.length - 1] ?? now) + longestWindowMs(key.rules);
    await tx.updateTable('rate_limits').set({ hits: JSON.stringify(kept), expires_at: expiresAt })
      .where('bucket', '=', key.bucket).where('key', '=', key.key).execute();
  }

  /** One hit on every key if all of them allow it, none otherwise; in one transaction. */
  async take(keys: RateKey[], now: number): Promise<RateVerdict> {
    // Rows of names and addresses seen once would pile up: every few minutes the old ones go.
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      await this.purgeExpired(now);
    }
    return this.db.transaction().execute(async (tx) => {
      // Always lock in one order, so two transactions over the same keys cannot deadlock.
      const locked = new Map<RateKey, number[]>();
      for (const key of [...keys].sort(keyOrder)) locked.set(key, await this.lockHits(tx, key.bucket, key.key, now));
      const verdict = judge(keys.map((key) => ({ key, hits: locked.get(key)! })), now);
      if (verdict.allowed) {
        for (const [key, hits] of locked) await this.writeHits(tx, key, [...hits, now], now);
      }
      return verdict;
    });
  }

  /** Takes back one hit recorded at `at` (an attempt that turned out not to count). */
  async release(key: RateKey, at: number, now: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const hits = await this.lockHits(tx, key.bucket, key.key, now);
      const i = hits.indexOf(at);
      if (i < 0) return;
      hits.splice(i, 1);
      await this.writeHits(tx, key, hits, now);
    });
  }

  /** Starts a key afresh (a successful login clears that name's failures). */
  async reset(bucket: RateBucket, key: string): Promise<void> {
    await this.db.deleteFrom('rate_limits').where('bucket', '=', bucket).where('key', '=', key).execute();
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('rate_limits').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
