// The store's hot paths: the one-statement session lookup and the group-committed audit trail.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../src/store/index.ts';
import { findLiveSession } from '../src/store/sessions.ts';
import { scratchDir } from './helpers/scratch.ts';
import { freshPostgresDatabase, storesUnderTest } from './helpers/stores.ts';

for (const storeName of storesUnderTest) {
  describe(`store hot paths (${storeName})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    before(async () => {
      const dataDir = scratchDir('twofold-hot-');
      const pgDb = storeName === 'postgres' ? await freshPostgresDatabase() : null;
      store = await openStore({ dataDir, databaseUrl: pgDb?.url });
      cleanup = async () => {
        await store.close();
        await pgDb?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      };
    });
    after(() => cleanup());

    const addUser = (id: string, emails: { address: string; verified: boolean }[]) =>
      store.users.create({ id, username: id, name: `Name ${id}`, passwordHash: null, roles: ['user'], createdAt: 1000, emails });
    const addToken = (tokenHash: string, userId: string, expiresAt: number | null) =>
      store.tokens.insert({ tokenHash, userId, kind: 'login', name: null, bypass2fa: false, createdAt: 1000, expiresAt });

    it('a session lookup gives the token and the whole user, every email in order', async () => {
      const user = await addUser('many', [{ address: 'First@example.com', verified: true }, { address: 'second@example.com', verified: false }]);
      await addToken('hash-many', 'many', 5000);
      await store.tokens.remember('hash-many', 4000, 'fingerprint');
      const found = await findLiveSession(store.db, 'hash-many', 2000);
      assert.deepEqual(found?.user, user);
      assert.deepEqual(found?.token, await store.tokens.findLive('hash-many', 2000));
      assert.equal(found?.token.twofaFingerprint, 'fingerprint');
    });

    it('a session lookup keeps a user who has no email', async () => {
      await addUser('none', []);
      await addToken('hash-none', 'none', null);
      const found = await findLiveSession(store.db, 'hash-none', 2000);
      assert.equal(found?.user.id, 'none');
      assert.deepEqual(found?.user.emails, []);
    });

    it('a session lookup finds nothing for an expired or unknown token', async () => {
      await addUser('old', [{ address: 'old@example.com', verified: true }]);
      await addToken('hash-old', 'old', 3000);
      assert.equal(await findLiveSession(store.db, 'hash-old', 3000), null);
      assert.equal(await findLiveSession(store.db, 'hash-unknown', 2000), null);
      assert.notEqual(await findLiveSession(store.db, 'hash-old', 2999), null);
    });

    it('audit events recorded at the same moment are each stored once, and stored when acknowledged', async () => {
      const count = 150; // more than one batch
      await Promise.all(Array.from({ length: count }, async (_, i) => {
        await store.audit.insert({ event: 'code-sent', userId: null, method: 'email', details: { n: i } }, 10_000 + i);
        const { events } = await store.audit.list({ offset: 0, count: 1000 });
        assert.ok(events.some((e) => e.details.n === i), `event ${i} is readable once acknowledged`);
      }));
      const { events, total } = await store.audit.list({ offset: 0, count: 1000 });
      assert.equal(total, count);
      assert.deepEqual(events.map((e) => e.details.n).sort((a, b) => Number(a) - Number(b)), Array.from({ length: count }, (_, i) => i));
    });
  });
}
