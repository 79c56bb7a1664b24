import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DdpTestClient, sha256 } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { runCli, runServerExpectingFailure, spawnServer, type ChildServer } from './helpers/child.ts';

// These run the real entry points (`npm start`'s src/main.ts and bin/twofold.js) in child
// processes, on the embedded default: SQLite file and the mail outbox in the data dir.

describe('start-up, CLI and outbox on the embedded default', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let server: ChildServer;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'twofold-start-'));
    env = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_ARGON2_MEMORY_KIB: '1024', TWOFOLD_ARGON2_ITERATIONS: '1' };
    const added = await runCli(['user', 'add', 'carol', '--password', 'carol pw', '--email', 'carol@example.com', '--verified', '--email-2fa'], env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /created user carol .*verified.*email 2FA on/);
    server = await spawnServer(env);
  });
  after(async () => {
    if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a bad setting stops start-up with a message naming it', async () => {
    const r = await runServerExpectingFailure({ TWOFOLD_DATA_DIR: dataDir, TWOFOLD_REMEMBER_FOR: 'soon' });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /TWOFOLD_REMEMBER_FOR: "soon" is not a whole number/);
  });

  it('creates the SQLite file and a server key readable only by its owner', () => {
    assert.ok(existsSync(join(dataDir, 'twofold.db')));
    const mode = statSync(join(dataDir, 'server.key')).mode & 0o777;
    assert.equal(mode, 0o600);
  });

  it('the CLI refuses a duplicate user and bad arguments with a clear message', async () => {
    const dup = await runCli(['user', 'add', 'carol', '--password', 'x', '--email', 'c2@example.com'], env);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /Username already in use/);
    const bad = await runCli(['user', 'add', 'dave', '--email', 'dave@example.com'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /needs --password/);
    const list = await runCli(['user', 'list'], env);
    assert.match(list.stdout, /carol\s+carol@example.com\s+user\s+email/);
  });

  it('a user made with the CLI logs in over REST and over a plain WebSocket; the code goes to the outbox, never to the log', async () => {
    const first = await rest(server.url, 'POST', '/api/v1/login', { body: { user: 'carol', password: 'carol pw' } });
    assert.equal(first.status, 401);
    assert.equal(first.body.error, 'totp-required');
    assert.equal(first.body.details.method, 'email');

    const outbox = join(dataDir, 'outbox');
    const files = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
    assert.equal(files.length, 1);
    const last = await runCli(['mail', '--last'], env);
    assert.match(last.stdout, /Subject: Authentication code/);
    const code = last.stdout.match(/authentication code is: (\d{3})-(\d{3})/)!.slice(1).join('');
    assert.equal(readFileSync(join(outbox, files[0]!), 'utf8').includes(`${code.slice(0, 3)}-${code.slice(3)}`), true);
    const listed = await runCli(['mail'], env);
    assert.match(listed.stdout, /to carol@example.com {2}"Authentication code"/);

    const auth = await restLogin(server.url, 'carol', 'carol pw', code);
    assert.equal((await rest(server.url, 'GET', '/api/v1/me', { auth })).body.username, 'carol');

    const ddp = await DdpTestClient.open(`${server.url.replace('http', 'ws')}/websocket`);
    const resumed = await ddp.call('login', { resume: auth.authToken });
    assert.equal(resumed.id, auth.userId);
    ddp.close();

    const log = server.lines.join('\n');
    assert.match(log, /"file":"[^"]+\.eml"\},"msg":"mail written to the outbox"/);
    assert.match(log, /"path":"\/api\/v1\/login","status":401,"ms":\d+/);
    assert.ok(!log.includes(code), 'the code is not in the log');
    assert.ok(!log.includes(auth.authToken), 'the token is not in the log');
    assert.ok(!log.includes(sha256('carol pw')) && !log.includes('carol pw'), 'the password is not in the log');
  });

  it('SIGTERM lets a call in flight finish, closes DDP sockets and exits 0', async () => {
    const ddp = await DdpTestClient.open(`${server.url.replace('http', 'ws')}/websocket`);
    const inFlight = rest(server.url, 'POST', '/api/v1/login', { body: { user: 'carol', password: 'wrong' } });
    // Give the request time to reach the server before the signal (not a timing assertion).
    await new Promise((r) => setTimeout(r, 100));
    server.proc.kill('SIGTERM');
    const answered = await inFlight;
    assert.equal(answered.status, 401);
    const closed = await ddp.closed;
    assert.equal(closed.code, 1001);
    assert.equal(await server.exited, 0);
  });
});

describe('server key from TWOFOLD_SECRET_KEY', () => {
  it('uses the key from the environment and writes no key file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'twofold-key-'));
    try {
      const server = await spawnServer({ TWOFOLD_DATA_DIR: dataDir, TWOFOLD_SECRET_KEY: 'a'.repeat(64) });
      assert.equal((await rest(server.url, 'GET', '/api/info')).status, 200);
      assert.equal(existsSync(join(dataDir, 'server.key')), false);
      server.proc.kill('SIGTERM');
      assert.equal(await server.exited, 0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
