import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EX_CONFIG, startFromEnvironment } from '../src/start.ts';
import { spawnCli, spawnServer } from './helpers/child.ts';
import { runCli } from './helpers/cli.ts';
import { DdpTestClient, sha256 } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { scratchDir } from './helpers/scratch.ts';
import { startTestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

// Smoke tests of the real entry points: bin/twofold.js and `npm start`'s src/main.ts, each
// spawned once, on the embedded default (SQLite file and mail outbox in the data dir).
// Everything else runs in-process: the CLI in test/cli.test.ts, the server's start-up below.

describe('start-up on the embedded default', () => {
  let dataDir: string;
  let env: Record<string, string>;
  before(() => {
    dataDir = scratchDir('twofold-start-');
    env = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_ARGON2_MEMORY_KIB: '1024', TWOFOLD_ARGON2_ITERATIONS: '1' };
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('bin/twofold.js runs a command, warns about a misspelled setting and exits 0', async () => {
    const added = await spawnCli(['user', 'add', 'carol', '--password', 'carol pw', '--email', 'carol@example.com', '--verified', '--email-2fa'], { ...env, TWOFOLD_REMEMBR_FOR: '60' });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^created user carol .*verified.*email 2FA on\)\n$/);
    assert.equal(added.stderr, 'twofold: unknown setting TWOFOLD_REMEMBR_FOR — did you mean TWOFOLD_REMEMBER_FOR?\n');
  });

  it('the server starts, logs in a CLI-made user with a code from the outbox, keeps secrets out of the log, and stops on SIGTERM', async () => {
    // Normally the spawned CLI made carol above; alone (--test-name-pattern) this test makes her.
    if (!existsSync(join(dataDir, 'twofold.db'))) {
      assert.equal((await runCli(['user', 'add', 'carol', '--password', 'carol pw', '--email', 'carol@example.com', '--verified', '--email-2fa'], env)).code, 0);
    }
    const server = await spawnServer({ ...env, TWOFOLD_SMTP_ULR: 'smtp://127.0.0.1:1' });
    try {
      assert.ok(server.lines.includes('twofold: unknown setting TWOFOLD_SMTP_ULR — did you mean TWOFOLD_SMTP_URL?'), server.lines.join('\n'));
      assert.ok(existsSync(join(dataDir, 'twofold.db')));
      assert.equal(statSync(join(dataDir, 'server.key')).mode & 0o777, 0o600, 'the server key is readable only by its owner');

      const first = await rest(server.url, 'POST', '/api/v1/login', { body: { user: 'carol', password: 'carol pw' } });
      assert.equal(first.status, 401);
      assert.equal(first.body.error, 'totp-required');
      assert.equal(first.body.details.method, 'email');
      assert.equal(readdirSync(join(dataDir, 'outbox')).filter((f) => f.endsWith('.eml')).length, 1);
      const code = /^code: (\d{6})$/m.exec((await runCli(['mail', '--last'], env)).stdout)![1]!;
      const auth = await restLogin(server.url, 'carol', 'carol pw', code);
      assert.equal((await rest(server.url, 'GET', '/api/v1/me', { auth })).body.username, 'carol');

      const ddp = await DdpTestClient.open(`${server.url.replace('http', 'ws')}/websocket`);
      assert.equal((await ddp.call('login', { resume: auth.authToken })).id, auth.userId);

      const log = server.lines.join('\n');
      assert.match(log, /"file":"[^"]+\.eml"\},"msg":"mail written to the outbox"/);
      assert.match(log, /"path":"\/api\/v1\/login","status":401,"ms":\d+/);
      assert.ok(!log.includes(code), 'the code is not in the log');
      assert.ok(!log.includes(auth.authToken), 'the token is not in the log');
      assert.ok(!log.includes(sha256('carol pw')) && !log.includes('carol pw'), 'the password is not in the log');

      // SIGTERM lets a call in flight finish and closes DDP sockets with 1001.
      const inFlight = rest(server.url, 'POST', '/api/v1/login', { body: { user: 'carol', password: 'wrong' } });
      // Give the request time to reach the server before the signal (not a timing assertion).
      await new Promise((r) => setTimeout(r, 100));
      server.proc.kill('SIGTERM');
      assert.equal((await inFlight).status, 401);
      assert.equal((await ddp.closed).code, 1001);
      assert.equal(await server.exited, 0);
    } finally {
      if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
    }
  });
});

describe('server start-up from the environment, in-process', () => {
  let dataDir: string;
  before(() => { dataDir = scratchDir('twofold-start-env-'); });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('bad settings stop start-up with one message listing every one of them (exit 78)', async () => {
    const lines: string[] = [];
    const r = await startFromEnvironment({
      TWOFOLD_DATA_DIR: join(dataDir, 'bad'), PORT: '0', TWOFOLD_REMEMBER_FOR: 'soon', TWOFOLD_MAX_BODY_BYTES: '5', TWOFOLD_2FA_FAILURE_LIMT: '3',
    }, (line) => lines.push(line));
    assert.deepEqual(r, { exitCode: EX_CONFIG });
    assert.deepEqual(lines, [
      'twofold: unknown setting TWOFOLD_2FA_FAILURE_LIMT — did you mean TWOFOLD_2FA_FAILURE_LIMIT?',
      'twofold: cannot start: 2 settings are wrong:\n  Setting TWOFOLD_MAX_BODY_BYTES: 5 is outside 1024..10485760\n  Setting TWOFOLD_REMEMBER_FOR: "soon" is not a whole number',
    ]);
    assert.equal(existsSync(join(dataDir, 'bad')), false, 'nothing was created');
  });

  it('a misspelled setting is warned about and the server starts with the rest', async () => {
    const lines: string[] = [];
    const r = await startFromEnvironment({
      TWOFOLD_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', TWOFOLD_LOG_LEVEL: 'silent', TWOFOLD_REMEMBR_FOR: '0',
    }, (line) => lines.push(line));
    assert.ok(!('exitCode' in r));
    try {
      assert.deepEqual(lines, ['twofold: unknown setting TWOFOLD_REMEMBR_FOR — did you mean TWOFOLD_REMEMBER_FOR?']);
      assert.equal(r.app.settings.rememberFor, 1800, 'the misspelled value was not read');
      assert.equal((await rest(r.url, 'GET', '/api/info')).status, 200);
    } finally {
      await r.close();
    }
  });
});

for (const store of storesUnderTest) {
  describe(`server key from TWOFOLD_SECRET_KEY (${store})`, () => {
    it('uses the key from the settings and writes no key file', async () => {
      const t = await startTestServer({ store, settings: { secretKey: 'a'.repeat(64) } });
      try {
        assert.equal((await rest(t.url, 'GET', '/api/info')).status, 200);
        assert.equal(existsSync(join(t.dataDir, 'server.key')), false);
      } finally {
        await t.close();
      }
    });
  });
}
