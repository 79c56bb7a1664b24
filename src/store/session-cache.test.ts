import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../core/clock.ts';
import { SessionCache } from './session-cache.ts';
import type { LiveSession } from './sessions.ts';

function session(userId: string, tokenHash: string, expiresAt: number | null = null): LiveSession {
  return {
    token: { tokenHash, userId, kind: 'login', name: null, bypass2fa: false, createdAt: 0, expiresAt, twofaUntil: null, twofaFingerprint: null, lastTokenPart: null },
    user: {
      id: userId, username: userId, name: userId, roles: ['user'], active: true, requirePasswordChange: false, createdAt: 0, passwordHash: null,
      emails: [{ address: `${userId}@example.com`, verified: true }], email2faEnabled: false, totpEnabled: false, totpSecret: null,
      totpPendingSecret: null, totpLastStep: null, webauthnCredentials: 0,
    },
  };
}

describe('the session cache', () => {
  it('keeps at most its bound, dropping the oldest first', () => {
    const clock = new FakeClock();
    const cache = new SessionCache(2, 60_000);
    for (const h of ['a', 'b', 'c']) cache.put(h, session(`u${h}`, h), 0, clock.now(), cache.mark());
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a', clock.now()), undefined);
    assert.ok(cache.get('b', clock.now()));
    assert.ok(cache.get('c', clock.now()));
  });

  it('reads a session again once it is older than the maximum age, or when the clock went back', () => {
    const clock = new FakeClock();
    const cache = new SessionCache(10, 60_000);
    cache.put('a', session('ua', 'a'), 0, clock.now(), cache.mark());
    clock.advance(59);
    assert.ok(cache.get('a', clock.now()));
    clock.advance(1);
    assert.equal(cache.get('a', clock.now()), undefined);
    cache.put('b', session('ub', 'b'), 0, clock.now(), cache.mark());
    clock.advance(-1);
    assert.equal(cache.get('b', clock.now()), undefined);
  });

  it('never answers with a token past its expiry', () => {
    const clock = new FakeClock();
    const cache = new SessionCache(10, 60_000);
    cache.put('a', session('ua', 'a', clock.now() + 10_000), 0, clock.now(), cache.mark());
    clock.advance(9);
    assert.ok(cache.get('a', clock.now()));
    clock.advance(1);
    assert.equal(cache.get('a', clock.now()), undefined);
  });

  it('does not keep what a read returned when a change was seen while it ran', () => {
    const cache = new SessionCache(10, 60_000);
    const mark = cache.mark();
    cache.dropUser('somebody else');
    cache.put('a', session('ua', 'a'), 0, 0, mark);
    assert.equal(cache.size, 0);
  });

  it('drops every session of a user, and only theirs', () => {
    const cache = new SessionCache(10, 60_000);
    cache.put('a1', session('ua', 'a1'), 0, 0, cache.mark());
    cache.put('a2', session('ua', 'a2'), 0, 0, cache.mark());
    cache.put('b', session('ub', 'b'), 0, 0, cache.mark());
    cache.dropUser('ua');
    assert.equal(cache.get('a1', 0), undefined);
    assert.equal(cache.get('a2', 0), undefined);
    assert.ok(cache.get('b', 0));
  });

  it('hands out a copy nobody can change', () => {
    const cache = new SessionCache(10, 60_000);
    cache.put('a', session('ua', 'a'), 0, 0, cache.mark());
    const kept = cache.get('a', 0)!.session;
    assert.throws(() => { (kept.user as { active: boolean }).active = false; }, TypeError);
    assert.throws(() => { (kept.user.emails as unknown[]).push({}); }, TypeError);
  });
});
