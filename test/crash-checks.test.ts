// Crash safety of code checks (issue 15 §1): with group commit a check is answered only after
// the COMMIT holding its writes, so a server killed with SIGKILL in the middle of a burst of
// checks has lost none that it answered 200. Restarted on the same data, every such code is
// refused as used, and its success is in the audit trail. (Other writes: test/crash.test.ts.)

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { seedPool } from '../bench/lib/seed.ts';
import { totpStep } from '../src/core/twofactor/totp.ts';
import { auditCount } from './helpers/audit.ts';
import { spawnCli, spawnServer } from './helpers/child.ts';
import { withDirectApp } from './helpers/direct.ts';
import { rest } from './helpers/rest.ts';
import { freshPostgresDatabase, storesUnderTest } from './helpers/stores.ts';
import { totpAt } from './helpers/totp.ts';

const USERS = 200;
const WORKERS = 20;
const KILL_AFTER_ACKS = 60;
const PROTECTED = '/api/v1/users.updateOwnBasicInfo';

interface Answered { userId: string; token: string; code: string; step: number }

for (const store of storesUnderTest) {
  describe(`crash safety of code checks (${store})`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    after(async () => { for (const c of cleanups.reverse()) await c(); });

    it('every check answered 200 before a SIGKILL left its effect: the code is used, the success audited', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'twofold-crash-checks-'));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const pg = store === 'postgres' ? await freshPostgresDatabase() : null;
      if (pg) cleanups.push(() => pg.drop());
      // Every call must show its code: nothing is remembered.
      const env: Record<string, string> = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_REMEMBER_FOR: '0' };
      if (pg) env.DATABASE_URL = pg.url;
      const pool = await withDirectApp({ dataDir, databaseUrl: pg?.url }, (app) => seedPool(app, 'totp', USERS, 'crash'));

      const first = await spawnServer(env);
      cleanups.push(() => { if (first.proc.exitCode === null) first.proc.kill('SIGKILL'); });
      const answered: Answered[] = [];
      let lost = 0;
      const queue = [...pool];
      const worker = async () => {
        for (let u = queue.shift(); u !== undefined; u = queue.shift()) {
          const now = Date.now();
          const code = totpAt(u.secret!, now);
          try {
            const r = await rest(first.url, 'POST', PROTECTED, {
              auth: { userId: u.userId, authToken: u.token }, body: { data: {} }, headers: { 'x-2fa-code': code },
            });
            assert.equal(r.status, 200, JSON.stringify(r.body));
            answered.push({ userId: u.userId, token: u.token, code, step: totpStep(now) });
            // Killed from inside the burst: other checks are still in flight.
            if (answered.length === KILL_AFTER_ACKS) first.proc.kill('SIGKILL');
          } catch (e) {
            if (e instanceof assert.AssertionError) throw e;
            lost++; // the connection died with the server
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      assert.equal(await first.exited, 'SIGKILL');
      assert.ok(answered.length >= KILL_AFTER_ACKS, `${answered.length} checks answered`);
      assert.ok(lost > 0, 'the kill interrupted checks in flight');

      const second = await spawnServer(env);
      cleanups.push(async () => { if (second.proc.exitCode === null) { second.proc.kill('SIGTERM'); await second.exited; } });
      for (const a of answered) {
        const again = await rest(second.url, 'POST', PROTECTED, {
          auth: { userId: a.userId, authToken: a.token }, body: { data: {} }, headers: { 'x-2fa-code': a.code },
        });
        assert.equal(again.body.errorType, 'totp-invalid', `the code of ${a.userId} was accepted again: its check was lost`);
      }
      second.proc.kill('SIGTERM');
      await second.exited;

      await withDirectApp({ dataDir, databaseUrl: pg?.url }, async (app) => {
        for (const a of answered) {
          const user = await app.store.users.byId(a.userId);
          assert.ok(user!.totpLastStep !== null && user!.totpLastStep >= a.step, `the step of ${a.userId} was lost`);
          assert.equal(await auditCount(app, a.userId, '2fa-success'), 1, `the audited success of ${a.userId} was lost`);
        }
      });
    });

    it('the command line writes to the same database while the server is in a burst of checks', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'twofold-cli-during-checks-'));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const pg = store === 'postgres' ? await freshPostgresDatabase() : null;
      if (pg) cleanups.push(() => pg.drop());
      const env: Record<string, string> = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_REMEMBER_FOR: '0' };
      if (pg) env.DATABASE_URL = pg.url;
      const pool = await withDirectApp({ dataDir, databaseUrl: pg?.url }, (app) => seedPool(app, 'totp', 600, 'busy'));
      const server = await spawnServer(env);
      cleanups.push(async () => { if (server.proc.exitCode === null) { server.proc.kill('SIGTERM'); await server.exited; } });

      // Three `twofold user add` processes, each its own connection to the file, while checks run.
      const names = ['cli-a', 'cli-b', 'cli-c'];
      let cliDone = false;
      const cli = Promise.all(names.map((n) => spawnCli(['user', 'add', n, '--password', 'pw', '--email', `${n}@example.com`], env)))
        .finally(() => { cliDone = true; });
      const statuses: number[] = [];
      const queue = [...pool];
      const worker = async () => {
        for (let u = queue.shift(); u !== undefined && !cliDone; u = queue.shift()) {
          const r = await rest(server.url, 'POST', PROTECTED, {
            auth: { userId: u.userId, authToken: u.token }, body: { data: {} }, headers: { 'x-2fa-code': totpAt(u.secret!, Date.now()) },
          });
          statuses.push(r.status);
        }
      };
      const [runs] = await Promise.all([cli, ...Array.from({ length: 10 }, worker)]);
      for (const r of runs) assert.equal(r.code, 0, r.stderr);
      assert.ok(statuses.length > 0);
      assert.ok(statuses.every((x) => x === 200), JSON.stringify(statuses.filter((x) => x !== 200)));
      server.proc.kill('SIGTERM');
      await server.exited;
      await withDirectApp({ dataDir, databaseUrl: pg?.url }, async (app) => {
        for (const n of names) assert.ok(await app.store.users.byUsername(n), `${n} was added`);
      });
    });
  });
}
