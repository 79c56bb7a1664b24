import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { scratchDir } from '../../test/helpers/scratch.ts';
import { freshPostgresDatabase, storesUnderTest } from '../../test/helpers/stores.ts';
import { statement } from './compiled.ts';
import { openStore, type Store } from './index.ts';

for (const storeName of storesUnderTest) {
  describe(`statements compiled once (${storeName})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    before(async () => {
      const dataDir = scratchDir('twofold-compiled-');
      const pgDb = storeName === 'postgres' ? await freshPostgresDatabase() : null;
      store = await openStore({ dataDir, databaseUrl: pgDb?.url });
      for (const [id, createdAt] of [['ann', 1000], ['bob', 2000], ['cat', 3000]] as const) {
        await store.users.create({ id, username: id, name: id, passwordHash: null, roles: ['user'], createdAt, emails: [] });
      }
      cleanup = async () => {
        await store.close();
        await pgDb?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      };
    });
    after(() => cleanup());

    it('gives the same rows on the database and inside its transactions, built once for all of them', async () => {
      let builds = 0;
      const between = statement('users between', (db, p: { from: number; to: number }) => {
        builds++;
        return db.selectFrom('users').select('id').where('created_at', '>=', p.from).where('created_at', '<=', p.to).orderBy('id');
      });
      const onDb = await between.run(store.db, { from: 1500, to: 3000 });
      const inTransactions = await Promise.all([1, 2].map(() =>
        store.db.transaction().execute(async (trx) => (await between.run(trx, { from: 1500, to: 3000 })).rows)));
      assert.deepEqual(onDb.rows, [{ id: 'bob' }, { id: 'cat' }]);
      assert.deepEqual(inTransactions, [onDb.rows, onDb.rows]);
      assert.deepEqual((await between.run(store.db, { from: 0, to: 1000 })).rows, [{ id: 'ann' }]);
      assert.equal(builds, 1);
    });

    it('binds each value by its name, whatever the order of the placeholders', async () => {
      // `to` comes first in the SQL, `from` second: positional binding would swap them.
      const between = statement('users between, reversed', (db, p: { from: number; to: number }) =>
        db.selectFrom('users').select('id').where('created_at', '<=', p.to).where('created_at', '>=', p.from).orderBy('id'));
      assert.deepEqual((await between.run(store.db, { from: 2000, to: 3000 })).rows, [{ id: 'bob' }, { id: 'cat' }]);
    });

    it('reports the rows a write changed', async () => {
      const rename = statement('rename', (db, p: { id: string; name: string }) => db.updateTable('users').set({ name: p.name }).where('id', '=', p.id));
      assert.equal(Number((await rename.run(store.db, { id: 'ann', name: 'Ann' })).numAffectedRows), 1);
      assert.equal(Number((await rename.run(store.db, { id: 'nobody', name: 'x' })).numAffectedRows), 0);
      assert.equal((await store.users.byId('ann'))?.name, 'Ann');
    });

    it('refuses a caller who gives more values than the statement binds', async () => {
      const byId = statement('by id, one value', (db, p: { id: string }) => db.selectFrom('users').select('id').where('id', '=', p.id));
      const extra = { id: 'ann', name: 'Ann' };
      await assert.rejects(byId.run(store.db, extra), /by id, one value: binds id; the caller gives id, name/);
    });

    it('refuses a statement that binds a value the caller does not give', async () => {
      // A value the builder took from elsewhere would be frozen at the first call's.
      const since = (cutoff: number) => statement('since a fixed time', (db, p: { id: string }) =>
        db.selectFrom('users').select('id').where('id', '=', p.id).where('created_at', '>=', cutoff));
      await assert.rejects(since(1500).run(store.db, { id: 'bob' }), /since a fixed time: a value not taken from the statement's parameters is bound/);
    });

    it('refuses a value the statement reads but does not bind', async () => {
      const unbound = statement('read, not bound', (db, p: { id: string; limit: number }) => {
        if (!p.limit) throw new Error('unreachable: a stand-in is never falsy');
        return db.selectFrom('users').select('id').where('id', '=', p.id);
      });
      await assert.rejects(unbound.run(store.db, { id: 'ann', limit: 5 }), /read, not bound: "limit" is read but not bound/);
    });

    it('refuses a missing value on a later call', async () => {
      const byId = statement('by id', (db, p: { id: string }) => db.selectFrom('users').select('id').where('id', '=', p.id));
      assert.equal((await byId.run(store.db, { id: 'ann' })).rows.length, 1);
      await assert.rejects(byId.run(store.db, { id: undefined as unknown as string }), /by id: no value for "id"/);
    });
  });
}
