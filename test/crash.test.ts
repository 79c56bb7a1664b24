// Crash safety: a server killed with SIGKILL in the middle of a burst of writes loses none
// of the writes it acknowledged. It is restarted on the same data and every acknowledged
// login token and every acknowledged "email 2FA on" must be there.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createUser } from '../src/operations/shared/accounts.ts';
import { openDatabase } from '../src/store/database.ts';
import { spawnServer, type ChildServer } from './helpers/child.ts';
import { withDirectApp } from './helpers/direct.ts';
import { rest } from './helpers/rest.ts';
import { freshPostgresDatabase, storesUnderTest } from './helpers/stores.ts';

const USERS = 60;
const WORKERS = 12;
const KILL_AFTER_ACKS = 50;

type Ack = { kind: 'token'; user: string; userId: string; authToken: string } | { kind: 'email2fa'; user: string; userId: string; authToken: string };

for (const store of storesUnderTest) {
  describe(`crash safety (${store})`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    after(async () => { for (const c of cleanups.reverse()) await c(); });

    it('every write acknowledged before a SIGKILL is there after a restart on the same data', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'twofold-crash-'));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const pg = store === 'postgres' ? await freshPostgresDatabase() : null;
      if (pg) cleanups.push(() => pg.drop());
      const env: Record<string, string> = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_ARGON2_MEMORY_KIB: '1024', TWOFOLD_ARGON2_ITERATIONS: '1' };
      if (pg) env.DATABASE_URL = pg.url;
      const users = Array.from({ length: USERS }, (_, i) => `crash${i}`);
      await withDirectApp({ dataDir, databaseUrl: pg?.url }, async (app) => {
        for (const username of users) await createUser(app, { username, email: `${username}@example.com`, verified: true, password: { plain: 'pw' } });
      });

      let server: ChildServer | null = await spawnServer(env);
      const first = server;
      cleanups.push(() => { if (first.proc.exitCode === null) first.proc.kill('SIGKILL'); });
      const acks: Ack[] = [];
      let lost = 0;
      const acked = (a: Ack) => {
        acks.push(a);
        // Killed from inside the burst: other requests are still in flight.
        if (acks.length === KILL_AFTER_ACKS) first.proc.kill('SIGKILL');
      };
      // Each user: log in (a new token), turn email 2FA on with it, log in again (another token).
      const queue = [...users];
      const worker = async () => {
        for (let user = queue.shift(); user !== undefined; user = queue.shift()) {
          try {
            const one = await rest(first.url, 'POST', '/api/v1/login', { body: { user, password: 'pw' } });
            if (one.status !== 200) continue;
            const auth = { userId: one.body.data.userId, authToken: one.body.data.authToken };
            acked({ kind: 'token', user, ...auth });
            const on = await rest(first.url, 'POST', '/api/v1/users.2fa.enableEmail', { auth });
            if (on.status === 200) acked({ kind: 'email2fa', user, ...auth });
          } catch {
            lost++; // the connection died with the server
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      assert.equal(await first.exited, 'SIGKILL');
      assert.ok(acks.length >= KILL_AFTER_ACKS, `${acks.length} writes acknowledged`);
      assert.ok(lost > 0, 'the kill interrupted requests in flight');

      server = await spawnServer(env);
      const second = server;
      cleanups.push(async () => { if (second.proc.exitCode === null) { second.proc.kill('SIGTERM'); await second.exited; } });
      for (const ack of acks) {
        const me = await rest(second.url, 'GET', '/api/v1/me', { auth: { userId: ack.userId, authToken: ack.authToken } });
        // A token acknowledged is a token that still logs in…
        assert.equal(me.status, 200, `${ack.kind} of ${ack.user}: token lost`);
        // …and an acknowledged "email 2FA on" is still on.
        if (ack.kind === 'email2fa') assert.equal(me.body.services.email2fa.enabled, true, `email 2FA of ${ack.user} lost`);
      }
      const asked = await rest(second.url, 'POST', '/api/v1/login', { body: { user: acks.find((x) => x.kind === 'email2fa')!.user, password: 'pw' } });
      assert.equal(asked.body.error, 'totp-required', 'the restarted server enforces what was written');
    });

    if (store === 'sqlite') {
      it('SQLite runs in WAL mode and syncs the WAL of every commit before acknowledging it', async () => {
        const dataDir = mkdtempSync(join(tmpdir(), 'twofold-pragma-'));
        cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
        const opened = await openDatabase({ dataDir });
        try {
          const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(opened.db);
          assert.equal(mode.rows[0]!.journal_mode, 'wal');
          // The default sync: SQLite writes the WAL at NORMAL, Twofold fsyncs it before answering
          // (the ordering itself: test/check-transaction.test.ts).
          const syncs = opened.groupCommit!.syncs;
          await sql`insert into audit_events (at, event, transport, client_address, details) values (0, 'code-sent', 'cli', '', '{}')`.execute(opened.db);
          assert.equal(opened.groupCommit!.syncs, syncs + 1, 'one WAL sync before the insert was answered');
        } finally {
          await opened.close();
        }
      });
    }
  });
}
