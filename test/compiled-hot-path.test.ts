// Issue 15 §1: a protected REST call with a valid TOTP or email code, and one whose check is
// remembered, build no SQL once the server has served one of each: building and compiling
// the statements cost as much CPU as running them (src/store/compiled.ts). Counted, not timed.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostgresQueryCompiler, SqliteQueryCompiler } from 'kysely';
import { seedPool } from '../bench/lib/seed.ts';
import { rest } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { totpAt } from './helpers/totp.ts';

const PROTECTED = '/api/v1/users.updateOwnBasicInfo';

/** The SQL compiled while `run` runs (every compiler of the process: the server is in it). */
async function compiledDuring(run: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const originals = [SqliteQueryCompiler, PostgresQueryCompiler].map((C) => [C, C.prototype.compileQuery] as const);
  for (const [C, original] of originals) {
    C.prototype.compileQuery = function (this: InstanceType<typeof C>, ...args: Parameters<typeof original>) {
      const compiled = original.apply(this, args);
      seen.push(compiled.sql);
      return compiled;
    };
  }
  try {
    await run();
  } finally {
    for (const [C, original] of originals) C.prototype.compileQuery = original;
  }
  return seen;
}

for (const store of storesUnderTest) {
  describe(`the code check's SQL is compiled once (${store})`, () => {
    let t: TestServer;
    before(async () => { t = await startTestServer({ store }); });
    after(() => t.close());

    for (const method of ['totp', 'email'] as const) {
      it(`a call with a valid ${method} code, and the remembered call after it, build no SQL once warm`, async () => {
        const app = t.server.app;
        const pool = await seedPool(app, method, 2, `warm-${method}-${Math.random().toString(36).slice(2, 8)}`);
        const call = async (u: (typeof pool)[number], withCode: boolean) => {
          const code = method === 'totp' ? totpAt(u.secret!, app.clock.now()) : u.code!;
          const headers: Record<string, string> = withCode ? { 'x-2fa-code': code, 'x-2fa-method': method } : {};
          const r = await rest(t.url, 'POST', PROTECTED, { auth: { userId: u.userId, authToken: u.token }, body: { data: {} }, headers });
          assert.equal(r.status, 200, JSON.stringify(r.body));
        };
        await call(pool[0]!, true);
        await call(pool[0]!, false);
        const sql = await compiledDuring(async () => {
          await call(pool[1]!, true);
          await call(pool[1]!, false);
        });
        assert.deepEqual(sql, []);
      });
    }
  });
}
