// Issue 11, point 6: the address stored is the address mail goes to. Anything but a bare
// addr-spec — a display name, a list, a comment, a quoted local part, an IP literal, a line
// break — is refused with 400 wherever an address comes in, and never reaches the mailer.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { domainToUnicode } from 'node:url';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { isEmailAddress, normalizeEmailAddress, parseEmailAddress } from '../src/core/email-address.ts';
import { isTwofoldError } from '../src/core/errors.ts';
import { createUser } from '../src/operations/shared/accounts.ts';
import { runCli } from './helpers/cli.ts';
import { ddpError, DdpTestClient } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

/** Forms a mail library, a relay or a header could read as something else, or that are not plain. */
export const refusedForms = [
  '"a" <b@c.de>',
  'Alice <alice@example.com>',
  '<a@b.cd>',
  'a@b.cd, d@e.fg',
  'a@b.cd,d@e.fg',
  'a,b@c.de',
  'a;b@c.de',
  'group: a@b.cd;',
  'a:b@c.de',
  'a@b.cd\nBcc: x@y.zz',
  'a@b.cd\r\nBcc: x@y.zz',
  'a@b.cd\n',
  'a(comment)@b.cd',
  'a@b.cd (comment)',
  '"quoted"@b.cd',
  '"a b"@c.de',
  'a\\b@c.de',
  'a@[127.0.0.1]',
  'a@[IPv6:::1]',
  'a@127.0.0.1',
  'a b@c.de',
  ' a@b.cd',
  'a@b.cd ',
  'a\t@b.cd',
  'a\u0000@b.cd',
  'a..b@c.de',
  '.a@b.cd',
  'a.@b.cd',
  'a@b',
  'a@localhost',
  'a@-b.cd',
  'a@b-.cd',
  'a@b..cd',
  'a@.b.cd',
  'a@b.cd.',
  'a@@b.cd',
  'a@b@c.de',
  '@b.cd',
  'a@',
  // Look-alikes and non-ASCII: a Cyrillic "а", an IDN in Unicode form, a full-width "＠".
  '\u0430lice@example.com',
  'alice@ex\u0430mple.com',
  'alice@b\u00fccher.de',
  'alice\uff20example.com',
  'x'.repeat(65) + '@example.com',
  // xn-- labels that are not valid IDNA: mail libraries decoded them into other addresses.
  'x@xn--bcher-k.va.de',
  'y@xn--zz.de',
  'z@xn--a.de',
  `a@${'b'.repeat(64)}.com`,
  `a@${Array.from({ length: 26 }, () => 'abcdefghi').join('.')}.com`, // 264 characters
];

const acceptedForms: [string, string][] = [
  ['alice@example.com', 'alice@example.com'],
  ['Alice.Smith@Example.COM', 'Alice.Smith@example.com'],
  ["o'brien+tag@mail.example.co.uk", "o'brien+tag@mail.example.co.uk"],
  ['a@b.c', 'a@b.c'],
  ['x@xn--bcher-kva.de', 'x@xn--bcher-kva.de'],
  ['{weird}|=?^_~!#$%&*/`@a-b.example', '{weird}|=?^_~!#$%&*/`@a-b.example'],
  [`${'x'.repeat(64)}@example.com`, `${'x'.repeat(64)}@example.com`],
];

describe('the address rule', () => {
  it('refuses every listed form', () => {
    for (const form of refusedForms) assert.equal(parseEmailAddress(form), null, JSON.stringify(form));
  });
  it('accepts plain addresses and lower-cases only the domain', () => {
    for (const [form, stored] of acceptedForms) assert.equal(parseEmailAddress(form), stored, form);
  });
  it('anything accepted is at most 254 characters, ASCII without spaces, and has exactly one @', () => {
    fc.assert(fc.property(fc.oneof(fc.emailAddress(), fc.string({ unit: 'binary', maxLength: 80 })), (raw) => {
      if (!isEmailAddress(raw)) return;
      assert.ok(raw.length <= 254);
      assert.match(raw, /^[\x21-\x7e]+$/);
      assert.equal(raw.split('@').length, 2);
    }), { numRuns: 2000 });
  });
});

/** A plausible address with, sometimes, one dangerous character put in somewhere. */
const addressLike = fc.tuple(
  fc.oneof({ arbitrary: fc.emailAddress(), weight: 1 }, { arbitrary: fc.constantFrom(...acceptedForms.map(([form]) => form)), weight: 2 }),
  fc.option(fc.tuple(fc.constantFrom(' ', ',', ';', ':', '<', '>', '"', '(', ')', '[', ']', '\\', '\n', '\r', '\t', '@', '.', '\u0430', '\u00a0'), fc.nat()), { nil: undefined }),
).map(([address, insert]) => {
  if (!insert) return address;
  const [ch, at] = insert;
  const i = at % (address.length + 1);
  return address.slice(0, i) + ch + address.slice(i);
});

for (const store of storesUnderTest) {
  describe(`email addresses over the real server (${store})`, () => {
    let t: TestServer;
    let admin: { userId: string; authToken: string };
    let user: { userId: string; authToken: string };
    let n = 0;
    before(async () => {
      t = await startTestServer({ store });
      await t.addUser({ username: 'root', password: 'root pw', roles: ['user', 'admin'] });
      await t.addUser({ username: 'plain', password: 'plain pw', email: 'plain@example.com' });
      admin = await restLogin(t.url, 'root', 'root pw');
      user = await restLogin(t.url, 'plain', 'plain pw');
    });
    after(() => t.close());

    function assertRefused(res: { status: number; body: any }, form: string, path: string) {
      assert.equal(res.status, 400, `${JSON.stringify(form)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.errorType, 'error-invalid-params', JSON.stringify(form));
      assert.equal(res.body.details.issues[0].path, path, JSON.stringify(form));
      assert.match(res.body.details.issues[0].problem, /plain address like name@example\.com|at most 254 characters/);
    }

    it('every refused form gets 400 on sign-up, admin create/update, own profile and resend (REST and DDP); nothing is stored or mailed', async () => {
      const usersBefore = (await t.server.app.store.users.list()).length;
      const ddp = await DdpTestClient.open(t.wsUrl);
      for (const form of refusedForms) {
        const name = `bad${++n}`;
        assertRefused(await rest(t.url, 'POST', '/api/v1/users.register', { body: { username: name, email: form, pass: 'pw' } }), form, 'email');
        assertRefused(await rest(t.url, 'POST', '/api/v1/users.create', { auth: admin, body: { username: name, email: form, password: 'pw' } }), form, 'email');
        const target = (await t.server.app.store.users.byUsername('plain'))!;
        assertRefused(await rest(t.url, 'POST', '/api/v1/users.update', { auth: admin, body: { userId: target.id, data: { email: form } } }), form, 'data.email');
        assertRefused(await rest(t.url, 'POST', '/api/v1/users.updateOwnBasicInfo', { auth: user, body: { data: { email: form } } }), form, 'data.email');
        assertRefused(await rest(t.url, 'POST', '/api/v1/users.sendConfirmationEmail', { auth: user, body: { email: form } }), form, 'email');
        const overDdp = await ddpError(ddp.call('registerUser', { username: name, email: form, pass: 'pw' }));
        assert.equal(overDdp.error, 'error-invalid-params', JSON.stringify(form));
      }
      ddp.close();
      assert.equal(t.mail.messages.length, 0);
      assert.equal((await t.server.app.store.users.list()).length, usersBefore);
      assert.deepEqual((await t.server.app.store.users.byUsername('plain'))!.emails, [{ address: 'plain@example.com', verified: true }]);
    });

    it('the service every other way in uses (CLI, tests) refuses them too', async () => {
      for (const form of refusedForms) {
        await assert.rejects(createUser(t.server.app, { username: `svc${++n}`, email: form, password: { plain: 'pw' } }),
          (e) => isTwofoldError(e) && e.code === 'error-invalid-email', JSON.stringify(form));
      }
      assert.equal(t.mail.messages.length, 0);
    });

    it('`twofold user add` refuses them and stores nothing', async () => {
      const env: Record<string, string> = { TWOFOLD_DATA_DIR: t.dataDir };
      if (t.server.app.settings.databaseUrl) env.DATABASE_URL = t.server.app.settings.databaseUrl;
      for (const form of ['<cli@example.com>', 'cli,other@example.com']) {
        const out = await runCli(['user', 'add', 'clibad', '--password', 'pw', '--email', form], env);
        assert.notEqual(out.code, 0, JSON.stringify(form));
        assert.match(out.stderr, /plain address like name@example\.com/);
      }
      assert.equal(await t.server.app.store.users.byUsername('clibad'), null);
      const good = await runCli(['user', 'add', 'cligood', '--password', 'pw', '--email', 'Cli.Good@EXAMPLE.org'], env);
      assert.equal(good.code, 0, good.stderr);
      assert.deepEqual((await t.server.app.store.users.byUsername('cligood'))!.emails, [{ address: 'Cli.Good@example.org', verified: false }]);
    });

    it('any address accepted at sign-up is stored and mailed exactly as normalised: RCPT TO = stored address (property)', async () => {
      await fc.assert(fc.asyncProperty(addressLike, async (raw) => {
        const username = `prop${++n}`;
        const mailsBefore = t.mail.messages.length;
        const res = await rest(t.url, 'POST', '/api/v1/users.register', { body: { username, email: raw, pass: 'pw' } });
        if (!isEmailAddress(raw)) {
          assert.equal(res.status, 400, JSON.stringify(raw));
          assert.equal(t.mail.messages.length, mailsBefore);
          assert.equal(await t.server.app.store.users.byUsername(username), null);
          return;
        }
        // A generated address may already be taken by an earlier run (case-insensitively).
        if (res.status === 400 && res.body.errorType === 'error-email-in-use') return;
        assert.equal(res.status, 200, `${JSON.stringify(raw)}: ${JSON.stringify(res.body)}`);
        const stored = (await t.server.app.store.users.byUsername(username))!.emails[0]!.address;
        assert.equal(stored, normalizeEmailAddress(raw));
        assert.equal(res.body.user.emails[0].address, stored);
        const sent = t.mail.messages.slice(mailsBefore);
        assert.equal(sent.length, 1);
        // The catcher (smtp-server) shows an xn-- domain in Unicode; the bytes sent were ASCII.
        const at = stored.lastIndexOf('@');
        assert.deepEqual(sent[0]!.to, [`${stored.slice(0, at)}@${domainToUnicode(stored.slice(at + 1))}`]);
      }), { numRuns: Number(process.env.FC_RUNS ?? 150) });
    });
  });
}

describe('the mailer itself', () => {
  it('refuses a recipient that is not a plain address, whoever calls it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twofold-outbox-'));
    try {
      const { outboxMailer, listOutbox } = await import('../src/mail/mailer.ts');
      const { default: pino } = await import('pino');
      const mailer = outboxMailer(dir, 'Twofold <no-reply@twofold.local>', pino({ level: 'silent' }));
      for (const to of ['a@b.cd, evil@x.yz', '"x" <evil@x.yz>', 'a@b.cd\nBcc: evil@x.yz']) {
        await assert.rejects(mailer.send({ to, subject: 's', text: 't', html: 'h' }), /not a plain address/);
      }
      await mailer.send({ to: 'ok@example.com', subject: 's', text: 't', html: 'h' });
      assert.deepEqual(listOutbox(dir).map((e) => e.to), ['ok@example.com']);
      mailer.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
