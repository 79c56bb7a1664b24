// The session cache behind a real store (src/store/session-cache.ts): what it keeps, and
// that every change made through the store is in the next lookup.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../src/store/index.ts';
import { touchLoginToken } from '../src/store/session-activity.ts';
import { scratchDir } from './helpers/scratch.ts';
import { freshPostgresDatabase, storesUnderTest } from './helpers/stores.ts';

for (const storeName of storesUnderTest) {
  describe(`sessions found through the store (${storeName})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      const dataDir = scratchDir('twofold-session-cache-');
      const pgDb = storeName === 'postgres' ? await freshPostgresDatabase() : null;
      store = await openStore({ dataDir, databaseUrl: pgDb?.url, sessionCache: { maxEntries: 100, maxAgeMs: 60_000 } });
      cleanup = async () => {
        await store.close();
        await pgDb?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      };
    });
    after(() => cleanup());

    async function userWithToken(id: string): Promise<string> {
      await store.users.create({ id, username: id, name: id, passwordHash: null, roles: ['user'], createdAt: 1000, emails: [] });
      await store.tokens.insert({ tokenHash: `hash-${id}`, userId: id, kind: 'login', name: null, bypass2fa: false, createdAt: 1000, expiresAt: null });
      return `hash-${id}`;
    }

    it('keeps a found session, never an unknown token', async () => {
      const hash = await userWithToken('kept');
      assert.equal((await store.sessions.find(hash, 2000))?.user.id, 'kept');
      assert.ok(store.sessions.cache!.get(hash, 2000));
      assert.equal(await store.sessions.find('hash-unknown', 2000), null);
      assert.equal(store.sessions.cache!.get('hash-unknown', 2000), undefined);
    });

    it('a remembered success and a new email are in the next lookup', async () => {
      const hash = await userWithToken('seen');
      await store.sessions.find(hash, 2000);
      await store.tokens.remember(hash, 9000, 'fingerprint');
      assert.equal((await store.sessions.find(hash, 2000))?.token.twofaUntil, 9000);
      await store.users.addEmail('seen', 'seen@example.com', true, 2000);
      assert.deepEqual((await store.sessions.find(hash, 2000))?.user.emails, [{ address: 'seen@example.com', verified: true }]);
    });

    it('a lookup running while the session changes does not keep the old state', async () => {
      const hash = await userWithToken('race');
      const [before] = await Promise.all([store.sessions.find(hash, 2000), store.users.update('race', { active: false })]);
      assert.ok(before);
      assert.equal((await store.sessions.find(hash, 2000))?.user.active, false);
    });

    it('a lookup made while a revocation waits for its group commit does not keep the old state', async () => {
      // SQLite: the revocation's write sits in an open batch for 50 ms; a lookup meanwhile
      // reads committed data (the old state) and must not keep it past the commit.
      const dataDir = scratchDir('twofold-session-cache-batch-');
      const pgDb = storeName === 'postgres' ? await freshPostgresDatabase() : null;
      const slow = await openStore({ dataDir, databaseUrl: pgDb?.url, commitDelayMs: 50, sessionCache: { maxEntries: 100, maxAgeMs: 60_000 } });
      try {
        await slow.users.create({ id: 'waiting', username: 'waiting', name: 'w', passwordHash: null, roles: ['user'], createdAt: 1000, emails: [] });
        await slow.tokens.insert({ tokenHash: 'hash-waiting', userId: 'waiting', kind: 'login', name: null, bypass2fa: false, createdAt: 1000, expiresAt: null });
        assert.equal((await slow.sessions.find('hash-waiting', 2000))?.user.active, true);
        const revoking = slow.users.update('waiting', { active: false });
        await new Promise((resolve) => setTimeout(resolve, 15));
        const during = await slow.sessions.find('hash-waiting', 2000);
        assert.ok(during, 'the revocation is not committed yet');
        await revoking;
        assert.equal((await slow.sessions.find('hash-waiting', 2000))?.user.active, false);
      } finally {
        await slow.close();
        await pgDb?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('a deleted user has no session any more', async () => {
      const hash = await userWithToken('gone');
      assert.ok(await store.sessions.find(hash, 2000));
      assert.equal(await store.users.delete('gone'), true);
      assert.equal(await store.sessions.find(hash, 2000), null);
    });

    it('noting that a session was used does not count as a change', async () => {
      const hash = await userWithToken('used');
      await store.sessions.find(hash, 2000);
      const entry = store.sessions.cache!.get(hash, 2000);
      await touchLoginToken(store.db, hash, 2000, 60_000);
      assert.equal(store.sessions.cache!.get(hash, 2000), entry, 'still the same copy');
      assert.equal(await store.sessions.find(hash, 2000), entry!.session);
    });
  });
}
