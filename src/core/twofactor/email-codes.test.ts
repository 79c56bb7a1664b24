import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { maskEmail } from '../accounts.ts';
import { ServerKeys } from '../secrets.ts';
import { formatEmailCode, normalizeEmailCode, sendNewEmailCode, verifyEmailCode } from './email-codes.ts';
import { checkSecondFactor } from './engine.ts';
import { engineWorld, rejection } from './testing.ts';

describe('email codes (spec §3.4)', () => {
  it('the first protected call mails a code; details tell codeGenerated, codeCount and codeExpires', async () => {
    const w = engineWorld();
    const user = w.user({ email2faEnabled: true });
    const first = await rejection(checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask' }));
    assert.equal(first.code, 'totp-required');
    const expires = new Date(w.clock.now() + w.settings.emailCodeTtl * 1000).toISOString();
    assert.deepEqual(first.details, {
      method: 'email', codeGenerated: true, codeCount: 1, codeExpires: [expires],
      availableMethods: ['email'], emailOrUsername: user.username, destinations: [maskEmail(user.emails[0]!.address)],
    });
    assert.equal(w.sent.length, 1);
    assert.deepEqual(w.sent[0]!.addresses, [user.emails[0]!.address]);
    // A live code exists: the next call says so and sends nothing.
    w.clock.advance(10);
    const second = await rejection(checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask' }));
    assert.equal(second.details?.codeGenerated, false);
    assert.equal(second.details?.codeCount, 1);
    assert.deepEqual(second.details?.codeExpires, [expires]);
    assert.equal(w.sent.length, 1);
  });

  it('codes go to every verified address and to no unverified one', async () => {
    const w = engineWorld();
    const user = w.user({
      email2faEnabled: true,
      emails: [{ address: 'a@example.com', verified: true }, { address: 'b@example.com', verified: false }, { address: 'c@example.com', verified: true }],
    });
    const { addresses } = await sendNewEmailCode(w.deps, user);
    assert.deepEqual(addresses, ['a@example.com', 'c@example.com']);
  });

  it('several live codes are each accepted; using one consumes it and every older one', async () => {
    const w = engineWorld();
    const user = w.user({ email2faEnabled: true });
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) {
      await sendNewEmailCode(w.deps, user);
      codes.push(w.lastCode(user));
      w.clock.advance(1);
    }
    const details = (await rejection(checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask' }))).details!;
    assert.equal(details.codeCount, 4);
    assert.equal((details.codeExpires as string[]).length, 4);
    assert.deepEqual(details.codeExpires, [...(details.codeExpires as string[])].sort(), 'oldest first');
    assert.equal(await verifyEmailCode(w.deps, user, codes[2]!), true);
    assert.equal(await verifyEmailCode(w.deps, user, codes[2]!), false, 'a code works once');
    assert.equal(await verifyEmailCode(w.deps, user, codes[0]!), false, 'older codes are gone');
    assert.equal(await verifyEmailCode(w.deps, user, codes[1]!), false, 'older codes are gone');
    assert.equal(await verifyEmailCode(w.deps, user, codes[3]!), true, 'a newer code still works');
  });

  it('an expired code is refused and the next call mails a fresh one', async () => {
    const w = engineWorld();
    const user = w.user({ email2faEnabled: true });
    await sendNewEmailCode(w.deps, user);
    const code = w.lastCode(user);
    w.clock.advance(w.settings.emailCodeTtl);
    const e = await rejection(checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask', code }));
    assert.equal(e.code, 'totp-invalid');
    assert.equal(e.details?.codeCount, 0);
    const next = await rejection(checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask' }));
    assert.equal(next.details?.codeGenerated, true);
    assert.notEqual(w.sent.length, 1);
  });

  it('at most EmailCodeMaxLive codes live at once: sending more drops the oldest', async () => {
    const w = engineWorld({ emailCodeMaxLive: 3 });
    const user = w.user({ email2faEnabled: true });
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      await sendNewEmailCode(w.deps, user);
      codes.push(w.lastCode(user));
      w.clock.advance(1);
    }
    assert.equal((await w.store.liveEmailCodes(user.id, w.clock.now())).length, 3);
    assert.equal(await verifyEmailCode(w.deps, user, codes[1]!), false);
    assert.equal(await verifyEmailCode(w.deps, user, codes[2]!), true);
  });

  it('stores a keyed hash of the code, never the code', async () => {
    const w = engineWorld();
    const user = w.user({ email2faEnabled: true });
    await sendNewEmailCode(w.deps, user);
    const code = w.lastCode(user);
    const [stored] = await w.store.liveEmailCodes(user.id, w.clock.now());
    assert.ok(stored);
    assert.ok(!stored.codeHash.includes(code));
    assert.equal(stored.codeHash, w.keys.hashCode(user.id, code));
    assert.notEqual(stored.codeHash, new ServerKeys(randomBytes(32)).hashCode(user.id, code), 'the hash depends on the server key');
    assert.notEqual(stored.codeHash, w.keys.hashCode('someone-else', code), 'and on the user');
  });

  it('a code is accepted as shown in the mail (123-456) or with spaces', async () => {
    const w = engineWorld();
    const user = w.user({ email2faEnabled: true });
    await sendNewEmailCode(w.deps, user);
    const code = w.lastCode(user);
    assert.equal(formatEmailCode('123456'), '123-456');
    assert.equal(normalizeEmailCode(' 123 456 '), '123456');
    assert.deepEqual(await checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask', code: formatEmailCode(code) }), { passed: 'verified', method: 'email' });
  });

  it('another user\'s code is refused', async () => {
    const w = engineWorld();
    const alice = w.user({ email2faEnabled: true });
    const bob = w.user({ email2faEnabled: true });
    await sendNewEmailCode(w.deps, alice);
    await sendNewEmailCode(w.deps, bob);
    assert.equal(await verifyEmailCode(w.deps, bob, w.lastCode(alice)), w.lastCode(alice) === w.lastCode(bob));
  });

  it('two concurrent uses of one code: exactly one succeeds', async () => {
    const w = engineWorld();
    const user = w.user({ email2faEnabled: true });
    await sendNewEmailCode(w.deps, user);
    const code = w.lastCode(user);
    const results = await Promise.allSettled([1, 2, 3].map(() => checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask', code })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  });

  it('wrong codes up to the limit burn the live codes; the next call mails a fresh one', async () => {
    const w = engineWorld();
    const user = w.user({ email2faEnabled: true });
    await sendNewEmailCode(w.deps, user);
    const good = w.lastCode(user);
    const wrong = good === '000000' ? '000001' : '000000';
    const errors: string[] = [];
    for (let i = 0; i < w.settings.emailCodeMaxAttempts; i++) {
      errors.push((await rejection(checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask', code: wrong }))).code);
    }
    assert.deepEqual(errors, [...Array(w.settings.emailCodeMaxAttempts - 1).fill('totp-invalid'), 'totp-max-attempts']);
    const burnt = await rejection(checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask', code: good }));
    assert.match(burnt.code, /^totp-(invalid|max-attempts)$/, 'the burnt code no longer works');
    w.clock.advance(1);
    const next = await rejection(checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask' }));
    assert.equal(next.details?.codeGenerated, true);
    w.clock.advance(1);
    const fresh = w.lastCode(user);
    assert.deepEqual(await checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask', code: fresh }), { passed: 'verified', method: 'email' });
  });
});
