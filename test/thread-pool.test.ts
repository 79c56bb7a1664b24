// The SQLite WAL sync that acknowledges every write runs on libuv's thread pool, which
// argon2 shares. A flood of password checks must not hold a code check's answer back:
// hashes take at most TWOFOLD_ARGON2_CONCURRENCY threads (default: all but one), and the
// others wait their turn in order, outside the pool. (SQLite only: PostgreSQL's commits
// do not use the pool.)
// test: own process (what other files leave running on the thread pool would skew the count)

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedPool } from '../bench/lib/seed.ts';
import type { App } from '../src/app.ts';
import { loadSettings } from '../src/config/settings.ts';
import type { User } from '../src/core/accounts.ts';
import { checkSecondFactor } from '../src/core/twofactor/engine.ts';
import { digestPassword } from '../src/adapters/passwords.ts';
import { FakeClock } from '../src/core/clock.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { totpAt } from './helpers/totp.ts';

const FLOOD = 24;

describe('a flood of password hashes and the write acknowledgements (sqlite)', () => {
  let t: TestServer;
  let app: App;
  const clock = new FakeClock();
  before(async () => {
    // Production hashing cost, so that each hash holds its thread for tens of milliseconds.
    const s = loadSettings({});
    t = await startTestServer({ store: 'sqlite', clock, settings: { argon2MemoryKib: s.argon2MemoryKib, argon2Iterations: s.argon2Iterations, rememberFor: 0 } });
    app = t.server.app;
  });
  after(() => t.close());

  it('by default hashes leave one thread of the pool free', () => {
    assert.equal(loadSettings({}).argon2Concurrency, 0);
    assert.equal(process.env.UV_THREADPOOL_SIZE ?? '4', '4', 'this test assumes libuv\'s default pool');
  });

  it(`a code check is answered while ${FLOOD} password checks wait for hashing, not after them`, async () => {
    const stored = await app.passwords.hash(digestPassword('flood pw'));
    const [seeded] = await seedPool(app, 'totp', 1, 'pool');
    const user = (await app.store.users.byId(seeded!.userId)) as User;
    let verified = 0;
    const flood = Array.from({ length: FLOOD }, () => app.passwords.verify(stored, digestPassword('flood pw')).then((ok) => {
      assert.equal(ok, true);
      verified++;
    }));
    const outcome = await checkSecondFactor(app.engineDeps, {
      user, purpose: 'call', policy: 'always', code: totpAt(seeded!.secret!, clock.now()), method: 'totp',
    });
    const verifiedMeanwhile = verified;
    await Promise.all(flood);
    assert.equal(outcome.passed, 'verified');
    // Unbounded, the check's WAL sync would queue behind every hash but the first four.
    assert.ok(verifiedMeanwhile <= 6, `${verifiedMeanwhile} of ${FLOOD} hashes finished before the check was answered`);
  });
});
