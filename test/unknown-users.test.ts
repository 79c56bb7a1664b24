// Issue 11, point 7: with TWOFOLD_MASK_UNKNOWN_USERS on, an outsider cannot tell known names
// from unknown ones on any anonymous endpoint: the same status, the same body (random ids
// aside) and the same limits, over REST and DDP. The anonymous endpoints are login,
// users.register, users.2fa.sendEmailCode and users.verifyEmail (which takes only a token).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import { buildRegistry } from '../src/operations/index.ts';
import { DdpTestClient } from './helpers/ddp.ts';
import { defaultSettings, productionLimits } from './helpers/limits.ts';
import { rest, restLogin, type RestResponse } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

/** What an outsider sees of a REST answer, with the random id and absolute times taken out. */
function seen(res: RestResponse, now: number) {
  const body = structuredClone(res.body);
  if (body?.user?._id) body.user._id = '<random>';
  const reset = res.headers.get('x-ratelimit-reset');
  return {
    status: res.status, body,
    limit: res.headers.get('x-ratelimit-limit'), remaining: res.headers.get('x-ratelimit-remaining'),
    resetIn: reset === null ? null : Number(reset) - now, retryAfter: res.headers.get('retry-after'),
  };
}

/** The same for a DDP result frame. */
function seenDdp(frame: any) {
  const copy = structuredClone(frame);
  delete copy.id;
  if (copy.result?._id) copy.result._id = '<random>';
  return copy;
}

describe('anonymous endpoints', () => {
  it('are exactly the ones SECURITY.md lists under "Unknown users" (a new one must be masked and listed)', () => {
    const anonymous = buildRegistry().all().filter((op) => op.auth === 'none' || op.auth === 'optional').map((op) => op.name).sort();
    assert.deepEqual(anonymous, ['login', 'logout', 'users.2fa.recover', 'users.2fa.sendEmailCode', 'users.register', 'users.verifyEmail']);
    const section = readFileSync(new URL('../SECURITY.md', import.meta.url), 'utf8').split('## Unknown users')[1]!.split('\n## ')[0]!;
    for (const name of anonymous) assert.ok(section.includes(`\`${name}\``), name);
  });
});

for (const store of storesUnderTest) {
  describe(`unknown users are masked on every anonymous endpoint (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    let client = 0;
    before(async () => {
      t = await startTestServer({ store, clock, settings: { ...productionLimits, maskUnknownUsers: true, trustProxy: '127.0.0.1' } });
      for (const name of ['kim', 'kat']) await t.addUser({ username: name, password: `${name} pw`, email2fa: true });
      for (const name of ['ned', 'nat']) await t.addUser({ username: name, password: `${name} pw` });
    });
    after(() => t.close());
    // Each name asks from its own client address, so only the per-name limits are in play.
    const nextAddress = () => `10.9.${Math.floor(++client / 200)}.${client % 200 + 1}`;

    /** A burst, then a request a minute for 11 minutes: the interval and the hourly cap both show. */
    async function codeSendSequence(ask: () => Promise<unknown>) {
      const answers: unknown[] = [await ask(), await ask()];
      for (let i = 0; i < defaultSettings.sendCodeUserPerHour; i++) {
        clock.advance(61);
        answers.push(await ask());
      }
      clock.advance(3601);
      return answers;
    }

    it('sendEmailCode over REST: a known name (with or without email codes, by name or address) and an unknown one get the same answers and run out at the same count', async () => {
      const sequences = new Map<string, unknown[]>();
      const mailsBefore = t.mail.messages.length;
      for (const name of ['kim', 'kim@example.com', 'ned', 'nobody', 'nobody@example.com']) {
        const from = nextAddress();
        sequences.set(name, await codeSendSequence(async () =>
          seen(await rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: name }, headers: { 'x-forwarded-for': from } }), clock.now())));
      }
      const reference = sequences.get('nobody')!;
      assert.deepEqual(reference[0], { status: 200, body: { emails: [], success: true }, limit: null, remaining: null, resetIn: null, retryAfter: null });
      assert.equal((reference[1] as any).status, 429);
      assert.equal((reference.at(-1) as any).status, 429);
      assert.equal(reference.filter((a: any) => a.status === 200).length, defaultSettings.sendCodeUserPerHour);
      for (const [name, answers] of sequences) assert.deepEqual(answers, reference, name);
      // The known user with email codes did get them: 10 by name, 10 by address.
      // Masked answers do not wait for the SMTP hand-off: wait for the mails here.
      const codesSent = () => t.mail.messages.slice(mailsBefore).filter((m) => m.subject === 'Authentication code');
      for (let i = 0; i < 500 && codesSent().length < 2 * defaultSettings.sendCodeUserPerHour; i++) await new Promise((r) => setTimeout(r, 10));
      const codes = codesSent();
      assert.equal(codes.length, 2 * defaultSettings.sendCodeUserPerHour);
      assert.ok(codes.every((m) => m.to.includes('kim@example.com')));
      // The user themself, logged in, still sees where the code went.
      clock.advance(3601);
      const auth = await restLogin(t.url, 'ned', 'ned pw');
      await t.server.app.store.users.update(auth.userId, { email2faEnabled: true });
      const own = await rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { auth, body: { emailOrUsername: 'ned' } });
      assert.deepEqual(own.body, { emails: ['ned@example.com'], success: true });
      await t.server.app.store.users.update(auth.userId, { email2faEnabled: false });
    });

    it('sendEmailCode over DDP: the same for known and unknown names', async () => {
      const sequences = new Map<string, unknown[]>();
      for (const name of ['kat', 'nat', 'nobody2']) {
        const ddp = await DdpTestClient.open(t.wsUrl, { headers: { 'x-forwarded-for': nextAddress() } });
        sequences.set(name, await codeSendSequence(async () => seenDdp(await ddp.callRaw('sendEmailCode', name))));
        ddp.close();
      }
      const reference = sequences.get('nobody2')!;
      assert.deepEqual(reference[0], { msg: 'result', result: [] });
      assert.equal((reference[1] as any).error.error, 'error-too-many-requests');
      for (const [name, answers] of sequences) assert.deepEqual(answers, reference, name);
    });

    it('users.2fa.recover: a known name and an unknown one get the same answers and run out at the same count', async () => {
      const sequences = new Map<string, unknown[]>();
      for (const name of ['kim', 'ned@example.com', 'nobody3']) {
        const from = nextAddress();
        sequences.set(name, await codeSendSequence(async () =>
          seen(await rest(t.url, 'POST', '/api/v1/users.2fa.recover', { body: { emailOrUsername: name }, headers: { 'x-forwarded-for': from } }), clock.now())));
      }
      const reference = sequences.get('nobody3')!;
      assert.equal((reference[0] as any).status, 200);
      assert.equal((reference.at(-1) as any).status, 429);
      for (const [name, answers] of sequences) assert.deepEqual(answers, reference, name);
    });

    it('users.register: a taken username or address is answered like a new account, limits included; the mailbox gets a notice instead of a link', async () => {
      await t.addUser({ username: 'owner', password: 'owner pw', email: 'owner@example.com' });
      const cases = {
        fresh: (i: number) => ({ username: `fresh${i}`, email: `fresh${i}@example.com`, pass: 'pw', name: 'Someone' }),
        takenName: (i: number) => ({ username: 'owner', email: `other${i}@example.com`, pass: 'pw', name: 'Someone' }),
        takenAddress: (i: number) => ({ username: `newname${i}`, email: i === 0 ? 'owner@example.com' : `Owner${i}@example.com`, pass: 'pw', name: 'Someone' }),
      };
      await t.addUser({ username: 'owner-alts', password: 'x', email: 'owner1@example.com' });
      for (let i = 2; i <= defaultSettings.registerAddressPerHour; i++) await t.addUser({ username: `owner-alt${i}`, password: 'x', email: `owner${i}@example.com` });
      const sequences = new Map<string, unknown[]>();
      for (const [name, body] of Object.entries(cases)) {
        const from = nextAddress();
        const answers: unknown[] = [];
        // One more than the per-address cap: the last one is 429 in every case.
        for (let i = 0; i <= defaultSettings.registerAddressPerHour; i++) {
          answers.push(seen(await rest(t.url, 'POST', '/api/v1/users.register', { body: body(i), headers: { 'x-forwarded-for': from } }), clock.now()));
        }
        sequences.set(name, answers);
      }
      const reference = sequences.get('fresh')!;
      assert.equal((reference[0] as any).status, 200);
      assert.equal((reference.at(-1) as any).status, 429);
      // The answers differ in the names and addresses sent; put them back to compare the rest.
      const scrub = (answers: unknown[]) => answers.map((a: any) => {
        const c = structuredClone(a);
        if (c.body?.user) { c.body.user.username = '<name>'; c.body.user.emails[0].address = '<address>'; }
        return c;
      });
      for (const [name, answers] of sequences) assert.deepEqual(scrub(answers), scrub(reference), name);
      assert.equal(((sequences.get('takenAddress')![0]) as any).body.user.emails[0].address, 'owner@example.com');

      const other = t.mail.messages.find((m) => m.to.includes('other0@example.com'))!;
      assert.equal(other.subject, 'Your sign-up');
      assert.match(other.text, /username "owner" is taken/);
      const owner = t.mail.messages.find((m) => m.to.includes('owner@example.com'))!;
      assert.equal(owner.subject, 'Your sign-up');
      assert.match(owner.text, /already uses this address/);
      assert.ok(!t.mail.messages.some((m) => m.to.includes('owner@example.com') && m.subject === 'Verify your email address'));
      assert.equal(await t.server.app.store.users.byUsername('newname0'), null);
      // Nobody can log in with what a masked answer seemed to create.
      assert.equal((await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'newname0', password: 'pw' } })).status, 401);
    });

    it('registerUser over DDP: a taken username answers like a new one', async () => {
      const ddp = await DdpTestClient.open(t.wsUrl, { headers: { 'x-forwarded-for': nextAddress() } });
      const fresh = seenDdp(await ddp.callRaw('registerUser', { username: 'ddpfresh', email: 'ddp1@example.com', pass: 'pw' }));
      const taken = seenDdp(await ddp.callRaw('registerUser', { username: 'kim', email: 'ddp2@example.com', pass: 'pw' }));
      ddp.close();
      assert.equal(fresh.result.username, 'ddpfresh');
      fresh.result.username = taken.result.username = fresh.result.name = taken.result.name = '<name>';
      fresh.result.emails[0].address = taken.result.emails[0].address = '<address>';
      assert.deepEqual(taken, fresh);
    });

    it('login: an unknown name and a known name with a wrong password get the same answers and the same block (REST and DDP)', async () => {
      const attempts = defaultSettings.loginFailuresPerUser + 1;
      const restSequence = async (user: string) => {
        const from = nextAddress();
        const answers: unknown[] = [];
        for (let i = 0; i < attempts; i++) {
          answers.push(seen(await rest(t.url, 'POST', '/api/v1/login', { body: { user, password: 'wrong' }, headers: { 'x-forwarded-for': from } }), clock.now()));
        }
        return answers;
      };
      const known = await restSequence('kim');
      assert.deepEqual(await restSequence('stranger'), known);
      assert.equal((known.at(-1) as any).body.error, 'error-login-blocked-for-user');

      const ddpSequence = async (username: string) => {
        const ddp = await DdpTestClient.open(t.wsUrl, { headers: { 'x-forwarded-for': nextAddress() } });
        const answers: unknown[] = [];
        for (let i = 0; i < attempts; i++) {
          answers.push(seenDdp(await ddp.callRaw('login', { user: { username }, password: { digest: '0'.repeat(64), algorithm: 'sha-256' } })));
        }
        ddp.close();
        return answers;
      };
      const knownDdp = await ddpSequence('kat');
      assert.deepEqual(await ddpSequence('stranger2'), knownDdp);
      assert.equal((knownDdp.at(-1) as any).error.error, 'error-login-blocked-for-user');
    });
  });
}
