// The `twofold` command, run in this process through `main(argv, io)` — the same function
// bin/twofold.js calls (test/startup.test.ts spawns that once as a smoke test).

import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from './helpers/cli.ts';
import { rest } from './helpers/rest.ts';
import { scratchDir } from './helpers/scratch.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { freshPostgresDatabase, storesUnderTest } from './helpers/stores.ts';

const everyCommand = [['user', 'add'], ['user', 'list'], ['user', 'reset-2fa'], ['mail'], ['audit'], ['rotate-key']];

describe('twofold: usage and help', () => {
  // Help never reads settings or data: a bad environment must not hide it.
  const env = { TWOFOLD_DATA_DIR: '/nonexistent/twofold', PORT: 'not a port' };

  it('twofold, twofold --help and twofold help list every command and sub-command', async () => {
    for (const argv of [[], ['--help'], ['-h'], ['help']]) {
      const r = await runCli(argv, env);
      assert.equal(r.code, 0, argv.join(' '));
      assert.equal(r.stderr, '');
      for (const words of everyCommand) assert.match(r.stdout, new RegExp(`^ {2}twofold ${words.join(' ')}\\b`, 'm'), `${argv.join(' ')}: ${words.join(' ')}`);
    }
  });

  it('`twofold user` alone lists its sub-commands', async () => {
    for (const argv of [['user'], ['user', '--help'], ['help', 'user']]) {
      const r = await runCli(argv, env);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^usage: twofold user <sub-command>/);
      for (const sub of ['add', 'list', 'reset-2fa']) assert.match(r.stdout, new RegExp(`^ {2}twofold user ${sub}\\b`, 'm'), `${argv.join(' ')}: ${sub}`);
      assert.doesNotMatch(r.stdout, /twofold mail/);
    }
  });

  it('every command and sub-command answers --help with its own usage and options', async () => {
    for (const words of everyCommand) {
      const r = await runCli([...words, '--help'], env);
      assert.equal(r.code, 0, words.join(' '));
      assert.equal(r.stderr, '', words.join(' '));
      assert.match(r.stdout, new RegExp(`^usage: twofold ${words.join(' ')}\\b`), words.join(' '));
      assert.deepEqual(await runCli(['help', ...words], env), r, `help ${words.join(' ')}`);
    }
    assert.match((await runCli(['user', 'add', '--help'], env)).stdout, /--email-2fa\s+switch email codes on/);
    assert.match((await runCli(['audit', '-h'], env)).stdout, /--limit N\s+how many/);
  });

  it('an unknown command or sub-command prints the usage on stderr and exits 2', async () => {
    const cmd = await runCli(['frobnicate'], env);
    assert.equal(cmd.code, 2);
    assert.equal(cmd.stdout, '');
    assert.match(cmd.stderr, /^twofold: unknown command: frobnicate\n\nusage: twofold <command>/);
    const sub = await runCli(['user', 'delete', 'bob'], env);
    assert.equal(sub.code, 2);
    assert.match(sub.stderr, /^twofold: unknown sub-command: user delete\n\nusage: twofold user <sub-command>/);
    const opt = await runCli(['mail', '--first'], env);
    assert.equal(opt.code, 2);
    assert.match(opt.stderr, /Unknown option '--first'[\s\S]*usage: twofold mail \[--last\]/);
  });
});

describe('twofold: settings at start-up', () => {
  let dataDir: string;
  before(() => { dataDir = scratchDir('twofold-cli-env-'); });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a misspelled TWOFOLD_ variable is warned about by name with the nearest real one, and the command still runs', async () => {
    const r = await runCli(['user', 'list'], { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_REMEMBR_FOR: '60', TWOFOLD_SMTP_ULR: 'smtp://x', TWOFOLD_COLOUR: 'blue' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no users\n');
    assert.equal(r.stderr, [
      'twofold: unknown setting TWOFOLD_COLOUR (not read by Twofold; the settings are listed in docs/settings.md)',
      'twofold: unknown setting TWOFOLD_REMEMBR_FOR — did you mean TWOFOLD_REMEMBER_FOR?',
      'twofold: unknown setting TWOFOLD_SMTP_ULR — did you mean TWOFOLD_SMTP_URL?',
      '',
    ].join('\n'));
  });

  it('every bad setting is reported in one message, and nothing is touched', async () => {
    const fresh = join(dataDir, 'never-created');
    const r = await runCli(['user', 'list'], {
      TWOFOLD_DATA_DIR: fresh, PORT: 'eighty', TWOFOLD_REMEMBER_FOR: 'soon', TWOFOLD_2FA_ENABLED: 'maybe', DATABASE_URL: 'mysql://secret@db',
    });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, [
      'twofold: 4 settings are wrong:',
      '  Setting PORT: "eighty" is not a whole number',
      '  Setting DATABASE_URL: (value hidden) is not a postgres:// URL',
      '  Setting TWOFOLD_2FA_ENABLED: "maybe" is not true/false',
      '  Setting TWOFOLD_REMEMBER_FOR: "soon" is not a whole number',
      '',
    ].join('\n'));
    assert.equal(existsSync(fresh), false);
  });
});

for (const store of storesUnderTest) {
  describe(`twofold user add / list (${store})`, () => {
    let dataDir: string;
    let env: Record<string, string>;
    let drop: (() => Promise<void>) | undefined;
    before(async () => {
      dataDir = scratchDir('twofold-cli-');
      env = { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_ARGON2_MEMORY_KIB: '1024', TWOFOLD_ARGON2_ITERATIONS: '1' };
      if (store === 'postgres') {
        const pg = await freshPostgresDatabase();
        env.DATABASE_URL = pg.url;
        drop = pg.drop;
      }
    });
    after(async () => {
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('creates users, lists them, and refuses a duplicate or bad arguments with a clear message', async () => {
      const added = await runCli(['user', 'add', 'carol', '--password', 'carol pw', '--email', 'carol@example.com', '--verified', '--email-2fa'], env);
      assert.equal(added.code, 0, added.stderr);
      assert.match(added.stdout, /^created user carol \(id \S+, email carol@example.com, verified, email 2FA on\)\n$/);
      assert.equal((await runCli(['user', 'add', 'dan', '--password', 'x', '--email', 'dan@example.com', '--admin'], env)).code, 0);

      const dup = await runCli(['user', 'add', 'carol', '--password', 'x', '--email', 'c2@example.com'], env);
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, /^twofold: Username already in use/);
      const bad = await runCli(['user', 'add', 'dave', '--email', 'dave@example.com'], env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^twofold: user add needs --password\n\nusage: twofold user add <username>/);
      const unverified = await runCli(['user', 'add', 'eve', '--password', 'x', '--email', 'eve@example.com', '--email-2fa'], env);
      assert.equal(unverified.code, 2);
      assert.match(unverified.stderr, /--email-2fa needs --verified/);

      const list = await runCli(['user', 'list'], env);
      assert.equal(list.code, 0);
      const lines = list.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^id\s+username\s+emails\s+roles\s+2fa$/);
      assert.match(lines[1]!, /carol\s+carol@example.com\s+user\s+email$/);
      assert.match(lines[2]!, /dan\s+dan@example.com \(unverified\)\s+user,admin\s+-$/);
      assert.equal(lines.length, 3);
    });
  });

  describe(`twofold mail (${store})`, () => {
    let t: TestServer;
    let env: Record<string, string>;
    before(async () => {
      // No SMTP: the embedded default, mail written to <data dir>/outbox/.
      t = await startTestServer({ store, settings: { smtpUrl: undefined } });
      env = { TWOFOLD_DATA_DIR: t.dataDir };
      if (t.server.app.settings.databaseUrl) env.DATABASE_URL = t.server.app.settings.databaseUrl;
    });
    after(() => t.close());

    it('mail --last prints the headers and the decoded text, with the code on its own line', async () => {
      assert.equal((await runCli(['mail', '--last'], env)).stdout, 'the outbox is empty\n');
      await t.addUser({ username: 'zoe', password: 'pw', email: 'zoe@example.com', email2fa: true });
      const asked = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'zoe', password: 'pw' } });
      assert.equal(asked.body.error, 'totp-required');

      const listed = await runCli(['mail'], env);
      assert.match(listed.stdout, /^\S+\.eml {2}to zoe@example.com {2}"Authentication code"\n$/);
      const last = await runCli(['mail', '--last'], env);
      assert.equal(last.code, 0, last.stderr);
      const gap = last.stdout.indexOf('\n\n');
      const [head, body] = [last.stdout.slice(0, gap), last.stdout.slice(gap + 2)];
      assert.match(head, /^From: Twofold <no-reply@twofold.local>\nTo: zoe@example.com\nSubject: Authentication code\nDate: .+\nFile: .+\.eml$/);
      assert.match(body, /^Hello zoe,$/m);
      assert.match(body, /^Your authentication code is: \d{3}-\d{3}$/m);
      assert.match(body, /your account stays safe without the code\.$/m, 'quoted-printable soft breaks are joined');
      assert.doesNotMatch(last.stdout, /Content-Transfer-Encoding|=\n|<p>/, 'neither MIME nor the HTML part is shown');
      const code = /^code: (\d{6})$/m.exec(last.stdout)?.[1];
      assert.ok(code, last.stdout);
      assert.ok(last.stdout.endsWith(`\ncode: ${code}\n`));
      const ok = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'zoe', password: 'pw', code } });
      assert.equal(ok.status, 200, 'the printed code logs in');
    });
  });
}
