// Issue 13 §3 and issue 15 §1: a code check is one transaction, and on SQLite the checks of
// one event-loop turn share one COMMIT (group commit), synced to disk before any caller is answered. Exactly-once
// and the failure budget must hold under a burst of 300 on both stores, and on SQLite no
// caller may be answered before the COMMIT that holds its writes.

import assert from 'node:assert/strict';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import type { App } from '../src/app.ts';
import { loadSettings } from '../src/config/settings.ts';
import { openDatabase } from '../src/store/database.ts';
import { GroupCommitDialect, GroupCommitDriver } from '../src/store/sqlite-group-commit.ts';
import type { User } from '../src/core/accounts.ts';
import { checkSecondFactor } from '../src/core/twofactor/engine.ts';
import { TwofoldError } from '../src/core/errors.ts';
import { seedPool } from '../bench/lib/seed.ts';
import { auditCount } from './helpers/audit.ts';
import { twoFactorWorld, type TwoFactorWorld } from './helpers/rest-2fa.ts';
import { scratchDir } from './helpers/scratch.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { totpAt, wrongTotp } from './helpers/totp.ts';

const BURST = 300;
const PROTECTED = '/api/v1/users.updateOwnBasicInfo';

/** How many answers of each kind: 'ok' for a 200, else the error type. */
const tally = (results: { status: number; body: any }[]) =>
  results.reduce<Record<string, number>>((o, r) => {
    const k = r.status === 200 ? 'ok' : String(r.body.errorType);
    return { ...o, [k]: (o[k] ?? 0) + 1 };
  }, {});

async function totpUsers(app: App, n: number, prefix: string) {
  return seedPool(app, 'totp', n, `${prefix}-${Math.random().toString(36).slice(2, 8)}`);
}

for (const store of storesUnderTest) {
  describe(`one transaction per code check, ${BURST} at once (${store})`, () => {
    let w: TwoFactorWorld;
    let app: App;
    // No remembered success: every call of the burst must show its code.
    before(async () => {
      w = await twoFactorWorld(store, { settings: { rememberFor: 0 } });
      app = w.t.server.app;
    });
    after(() => w.t.close());

    const burst = (auth: { userId: string; authToken: string }, headers: Record<string, string>) =>
      Promise.all(Array.from({ length: BURST }, () => w.call('POST', PROTECTED, { auth, body: { data: {} }, headers })));

    it(`${BURST} concurrent calls with one valid TOTP code: exactly one passes, and exactly the failure limit of replays is counted`, async () => {
      const [u] = await totpUsers(app, 1, 'once');
      const limit = app.settings.failureLimit;
      const results = await burst({ userId: u!.userId, authToken: u!.token }, { 'x-2fa-code': totpAt(u!.secret!, w.clock.now()) });
      assert.deepEqual(tally(results), { ok: 1, 'totp-invalid': limit, 'totp-max-attempts': BURST - 1 - limit });
      for (const r of results.filter((x) => x.body.errorType === 'totp-invalid')) assert.equal(r.body.details.reason, 'used');
      assert.equal(await auditCount(app, u!.userId, '2fa-success'), 1);
      assert.equal(await auditCount(app, u!.userId, '2fa-failure'), limit);
      assert.equal(await auditCount(app, u!.userId, 'totp-replay'), limit);
    });

    it(`${BURST} concurrent calls with one email code: exactly one passes; the losers spend the email attempts and then the window`, async () => {
      const u = await w.emailUser();
      const auth = await w.loginEmailUser(u);
      const code = await w.codeFrom(u, () => w.call('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: u.username } }));
      const successes = await auditCount(app, u.id, '2fa-success');
      const results = await burst(auth, { 'x-2fa-code': code, 'x-2fa-method': 'email' });
      const maxAttempts = app.settings.emailCodeMaxAttempts;
      assert.deepEqual(tally(results), { ok: 1, 'totp-invalid': maxAttempts - 1, 'totp-max-attempts': BURST - maxAttempts });
      assert.equal(await auditCount(app, u.id, '2fa-success'), successes + 1);
      assert.equal(await auditCount(app, u.id, '2fa-failure'), app.settings.failureLimit);
    });

    it(`${BURST} concurrent wrong TOTP codes: exactly the failure limit are counted, the rest refused unchecked`, async () => {
      const [u] = await totpUsers(app, 1, 'wrong');
      const limit = app.settings.failureLimit;
      const results = await burst({ userId: u!.userId, authToken: u!.token }, { 'x-2fa-code': wrongTotp(u!.secret!, w.clock.now()) });
      assert.deepEqual(tally(results), { 'totp-invalid': limit, 'totp-max-attempts': BURST - limit });
      assert.equal(await auditCount(app, u!.userId, '2fa-failure'), limit);
      const rows = await app.store.db.selectFrom('twofa_failures').select('id').where('user_id', '=', u!.userId).execute();
      assert.equal(rows.length, limit);
      const state = await app.store.db.selectFrom('twofa_user_state').select('failures_in_row').where('user_id', '=', u!.userId).executeTakeFirstOrThrow();
      assert.equal(Number(state.failures_in_row), limit);
    });
  });
}

describe('SQLite group commit', () => {
  let w: TwoFactorWorld;
  let app: App;
  before(async () => {
    w = await twoFactorWorld('sqlite', { settings: { rememberFor: 0 } });
    app = w.t.server.app;
  });
  after(() => w.t.close());

  const N = 40;

  async function checks() {
    const pool = await totpUsers(app, N, 'batch');
    const users = await Promise.all(pool.map(async (p) => ({ user: (await app.store.users.byId(p.userId)) as User, code: totpAt(p.secret!, w.clock.now()) })));
    const check = (x: { user: User; code: string }) =>
      checkSecondFactor(app.engineDeps, { user: x.user, purpose: 'call', policy: 'always', code: x.code, method: 'totp' });
    return { users, check };
  }

  it(`${N} checks of ${N} users at once share one COMMIT, and each is answered after it`, async () => {
    const { users, check } = await checks();
    const stats = app.store.groupCommit!;
    const before = { ...stats };
    const outcomes = await Promise.all(users.map(check));
    assert.ok(outcomes.every((o) => o.passed === 'verified'));
    assert.equal(stats.commits - before.commits, 1, 'COMMITs');
    assert.equal(stats.committedCallers - before.committedCallers, N, 'callers in them');
  });

  it('a COMMIT that fails fails every check of its batch: none is answered, none of their writes stays', async () => {
    const { users, check } = await checks();
    const stats = app.store.groupCommit!;
    const failed = stats.failedCommits;
    // A real COMMIT failure: a foreign key checked at COMMIT (deferred) that does not hold,
    // written by a transaction that lands in the same batch as the checks.
    const poison = app.store.db.transaction().execute(async (tx) => {
      await sql`pragma defer_foreign_keys = on`.execute(tx);
      await tx.insertInto('twofa_failures').values({ id: 'poison', user_id: 'no such user', kind: 'totp', at: 0 }).execute();
    });
    const outcomes = await Promise.allSettled([...users.map(check), poison]);
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected', 'no caller of the failed batch is answered as if it had been stored');
      assert.equal((o as PromiseRejectedResult).reason.code, 'SQLITE_CONSTRAINT_FOREIGNKEY');
    }
    assert.equal(stats.failedCommits - failed, 1);
    // Nothing of the batch stayed: each code's step is still unused, so the same code passes now.
    for (const u of users) {
      assert.equal(await auditCount(app, u.user.id, '2fa-success'), 0);
      assert.deepEqual(await check(u), { passed: 'verified', method: 'totp' });
    }
    const replay = await check(users[0]!).catch((e: unknown) => e);
    assert.ok(replay instanceof TwofoldError && replay.code === 'totp-invalid', 'and only once');
  });
});

describe('SQLite group commit: how long a batch waits (TWOFOLD_SQLITE_COMMIT_DELAY)', () => {
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  /** Two writes, the second two turns after the first; `between` runs once both are waiting. */
  async function twoTurns(delayMs: number | undefined, between: (done: string[]) => Promise<void>) {
    const opened = await openDatabase({ dataDir: scratchDir('twofold-delay-'), commitDelayMs: delayMs });
    // Only now: the migrations' own writes wait for a real timer.
    if (delayMs) mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const stats = opened.groupCommit!;
      const before = stats.commits;
      const done: string[] = [];
      const put = (id: string) => opened.db.insertInto('audit_events')
        .values({ at: 0, event: 'code-sent', user_id: null, method: null, transport: 'cli', client_address: '', details: id })
        .execute().then(() => { done.push(id); });
      const first = put('first');
      await nextTurn();
      await nextTurn();
      const second = put('second');
      await between(done);
      await Promise.all([first, second]);
      assert.deepEqual(done, ['first', 'second']);
      return stats.commits - before;
    } finally {
      mock.timers.reset();
      await opened.close();
    }
  }

  it('by default a batch ends with the event-loop turn: writes of two turns are two COMMITs', async () => {
    assert.equal(loadSettings({}).sqliteCommitDelay, 0);
    assert.equal(await twoTurns(undefined, async () => {}), 2);
  });

  it('with a delay, writes of later turns join the waiting batch, and none is answered before its COMMIT', async () => {
    const commits = await twoTurns(10, async (done) => {
      await nextTurn();
      await nextTurn();
      assert.deepEqual(done, [], 'answered before the COMMIT');
      mock.timers.tick(10);
    });
    assert.equal(commits, 1);
  });
});

describe('SQLite group commit: each transaction is a savepoint of the batch', () => {
  it('a transaction that fails is undone alone; the others of its batch commit with one COMMIT', async () => {
    const opened = await openDatabase({ dataDir: scratchDir('twofold-savepoint-') });
    try {
      const db = opened.db;
      const row = (details: string) => ({ at: 0, event: 'code-sent' as const, user_id: null, method: null, transport: 'cli', client_address: '', details });
      const before = opened.groupCommit!.commits;
      const outcomes = await Promise.allSettled([
        db.transaction().execute(async (tx) => {
          await tx.insertInto('audit_events').values(row('undone')).execute();
          throw new Error('changed its mind');
        }),
        db.transaction().execute(async (tx) => { await tx.insertInto('audit_events').values(row('kept in a transaction')).execute(); }),
        db.insertInto('audit_events').values(row('kept alone')).execute(),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'fulfilled', 'fulfilled']);
      assert.equal(opened.groupCommit!.commits - before, 1);
      const rows = await db.selectFrom('audit_events').select('details').orderBy('seq').execute();
      assert.deepEqual(rows.map((r) => r.details), ['kept in a transaction', 'kept alone']);
    } finally {
      await opened.close();
    }
  });

  it('a read outside a transaction sees committed data only, and does not wait for the batch', async () => {
    const opened = await openDatabase({ dataDir: scratchDir('twofold-reader-') });
    try {
      const db = opened.db;
      let committed = false;
      const write = db.insertInto('audit_events')
        .values({ at: 0, event: 'code-sent', user_id: null, method: null, transport: 'cli', client_address: '', details: 'pending' })
        .execute().then(() => { committed = true; });
      // Same turn: the write has run but its batch has not committed yet.
      await Promise.resolve();
      const seen = await db.selectFrom('audit_events').select('details').execute();
      assert.equal(committed, false, 'the read was answered before the COMMIT');
      assert.deepEqual(seen, [], 'and did not see the uncommitted write');
      await write;
      assert.deepEqual(await db.selectFrom('audit_events').select('details').execute(), [{ details: 'pending' }]);
    } finally {
      await opened.close();
    }
  });
});

describe('SQLite group commit: the WAL is synced off the event loop (TWOFOLD_SQLITE_SYNC)', () => {
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  const row = (details: string) => ({ at: 0, event: 'code-sent' as const, user_id: null, method: null, transport: 'cli', client_address: '', details });

  /** A real database whose WAL syncs each wait for `release()` (the disk, slowed down at will). */
  function gatedWorld() {
    const dir = scratchDir('twofold-walsync-');
    const file = join(dir, 'twofold.db');
    const writer = new SqliteDatabase(file);
    writer.pragma('journal_mode = WAL');
    writer.pragma('synchronous = NORMAL');
    writer.exec('CREATE TABLE t (v TEXT)');
    const gates: (() => void)[] = [];
    let failNext: Error | null = null;
    const driver = new GroupCommitDriver(writer, {
      reader: new SqliteDatabase(file, { readonly: true }),
      syncWal: async () => {
        await new Promise<void>((resolve) => gates.push(resolve));
        if (failNext) throw failNext;
        const fd = openSync(`${file}-wal`, 'r');
        try { fsyncSync(fd); } finally { closeSync(fd); }
      },
    });
    const db = new Kysely<{ t: { v: string } }>({ dialect: new GroupCommitDialect(driver) });
    const answered: string[] = [];
    const put = (v: string) => db.insertInto('t').values({ v }).execute().then(() => { answered.push(v); });
    return {
      db, driver, answered, put,
      syncsWaiting: () => gates.length,
      release: () => gates.shift()!(),
      failNextSync: (e: Error) => { failNext = e; },
      close: async () => { while (gates.length) gates.shift()!(); await db.destroy(); },
    };
  }

  it('no write is answered before a WAL sync that began after its COMMIT has finished', async () => {
    const w = gatedWorld();
    try {
      const first = w.put('first');
      await nextTurn();
      await nextTurn();
      assert.equal(w.driver.stats.commits, 1, 'committed');
      assert.equal(w.syncsWaiting(), 1, 'its sync is running');
      assert.deepEqual(await w.db.selectFrom('t').select('v').execute(), [{ v: 'first' }], 'readers see the commit');
      assert.deepEqual(w.answered, [], 'but its caller waits for the disk');
      w.release();
      await first;
      assert.deepEqual(w.answered, ['first']);
      assert.equal(w.driver.stats.syncs, 1);
    } finally {
      await w.close();
    }
  });

  it('batches committed during a sync are all covered by the next one, while the event loop goes on', async () => {
    const w = gatedWorld();
    try {
      const writes = [w.put('a')];
      await nextTurn();
      await nextTurn();
      writes.push(w.put('b'));
      await nextTurn();
      await nextTurn();
      writes.push(w.put('c'));
      await nextTurn();
      await nextTurn();
      assert.equal(w.driver.stats.commits, 3, 'b and c committed while the first sync ran');
      assert.equal(w.syncsWaiting(), 1, 'one sync at a time');
      w.release();
      await writes[0];
      await nextTurn();
      assert.deepEqual(w.answered, ['a'], 'b and c were committed after the first sync began');
      assert.equal(w.syncsWaiting(), 1, 'one more sync, for both');
      w.release();
      await Promise.all(writes);
      assert.deepEqual(w.answered, ['a', 'b', 'c']);
      assert.equal(w.driver.stats.syncs, 2);
    } finally {
      await w.close();
    }
  });

  it('a sync that fails fails the callers it was to cover, and every write after it', async () => {
    const w = gatedWorld();
    try {
      w.failNextSync(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      const write = w.put('lost?');
      await nextTurn();
      await nextTurn();
      w.release();
      await assert.rejects(write, { code: 'EIO' });
      assert.deepEqual(w.answered, []);
      // The kernel may have dropped what it failed to write: no later write is called durable.
      await assert.rejects(w.put('after'), { code: 'EIO' });
      assert.equal(w.syncsWaiting(), 0, 'not even tried');
      assert.deepEqual(await w.db.selectFrom('t').select('v').execute(), [{ v: 'lost?' }], 'and nothing more is written');
    } finally {
      await w.close();
    }
  });

  it('by default Twofold syncs the WAL itself (SQLite at NORMAL); inline leaves it to SQLite at FULL', async () => {
    assert.equal(loadSettings({}).sqliteSync, 'pool');
    assert.throws(() => loadSettings({ TWOFOLD_SQLITE_SYNC: 'off' }), /TWOFOLD_SQLITE_SYNC/);
    for (const [sync, level, syncs] of [['pool', 1, 1], ['inline', 2, 0]] as const) {
      const opened = await openDatabase({ dataDir: scratchDir(`twofold-sync-${sync}-`), sync });
      try {
        const before = opened.groupCommit!.syncs;
        await opened.db.insertInto('audit_events').values(row(sync)).execute();
        assert.equal(opened.sqlite!.writer.pragma('synchronous', { simple: true }), level, `${sync}: synchronous`);
        assert.equal(opened.groupCommit!.syncs - before, syncs, `${sync}: WAL syncs by Twofold`);
      } finally {
        await opened.close();
      }
    }
  });
});
