import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeSendKeys, judge, loginBlocked, loginKeys, retainHits, tooManyRequests, type RateKey } from './limits.ts';

const T = Date.UTC(2026, 0, 1);
const s = { sendCodeUserInterval: 60, sendCodeUserPerHour: 10, sendCodeAddressPerHour: 30, loginFailuresPerUser: 10, loginFailuresPerAddress: 50, loginBlockSeconds: 300 };
const key = (rules: RateKey['rules'], bucket: RateKey['bucket'] = 'send-code-user'): RateKey => ({ bucket, key: 'k', rules });

describe('sliding-window limits', () => {
  it('allows up to the limit, then refuses until the oldest counted hit leaves the window', () => {
    const k = key([{ limit: 3, windowSeconds: 100 }]);
    const hits = [T, T + 10_000, T + 20_000];
    const now = T + 30_000;
    assert.deepEqual(judge([{ key: k, hits: hits.slice(0, 2) }], now), {
      allowed: true, bucket: 'send-code-user', limit: 3, remaining: 0, resetAt: T + 100_000, timeToReset: 70,
    });
    const refused = judge([{ key: k, hits }], now);
    assert.equal(refused.allowed, false);
    assert.equal(refused.resetAt, T + 100_000);
    assert.equal(refused.timeToReset, 70);
    // Exactly one window after the oldest hit, it no longer counts.
    assert.equal(judge([{ key: k, hits }], T + 100_000).allowed, true);
    assert.equal(judge([{ key: k, hits }], T + 99_999).allowed, false);
  });

  it('with several rules the longest wait decides a refusal and the least room decides the headers', () => {
    const k = key([{ limit: 1, windowSeconds: 60 }, { limit: 10, windowSeconds: 3600 }]);
    const tenSpaced = Array.from({ length: 10 }, (_, i) => T + i * 60_000);
    const now = T + 10 * 60_000;
    const v = judge([{ key: k, hits: tenSpaced }], now);
    assert.equal(v.allowed, false);
    assert.equal(v.limit, 10);
    assert.equal(v.timeToReset, 3000);
    const minute = judge([{ key: k, hits: [now - 1000] }], now);
    assert.equal(minute.allowed, false);
    assert.equal(minute.limit, 1);
    assert.equal(minute.timeToReset, 59);
    const fresh = judge([{ key: k, hits: [] }], now);
    assert.deepEqual([fresh.allowed, fresh.limit, fresh.remaining], [true, 1, 0]);
  });

  it('a refusal names the first refusing key in the order given: the address before the user at login', () => {
    const [address, user] = loginKeys(s, 'user-1', '10.0.0.1');
    assert.equal(address!.bucket, 'login-address');
    assert.equal(user!.bucket, 'login-user');
    const full = (n: number) => Array.from({ length: n }, () => T);
    const both = judge([{ key: address!, hits: full(50) }, { key: user!, hits: full(10) }], T + 1000);
    assert.equal(both.bucket, 'login-address');
    assert.equal(loginBlocked(both).code, 'error-login-blocked-for-ip');
    const userOnly = judge([{ key: address!, hits: full(10) }, { key: user!, hits: full(10) }], T + 1000);
    assert.equal(loginBlocked(userOnly).code, 'error-login-blocked-for-user');
    assert.equal(userOnly.timeToReset, 299);
  });

  it('keeps only what a decision can need: hits inside the longest window, at most the largest limit', () => {
    const rules = [{ limit: 1, windowSeconds: 60 }, { limit: 10, windowSeconds: 3600 }];
    const hits = Array.from({ length: 30 }, (_, i) => T + i * 1000);
    const kept = retainHits(hits, rules, T + 3_600_000 + 5000);
    assert.deepEqual(kept, hits.slice(-10).filter((h) => h > T + 5000));
    assert.equal(retainHits(hits, rules, T + 30_000).length, 10);
    for (const now of [T + 30_000, T + 61_000, T + 3_600_000]) {
      assert.deepEqual(judge([{ key: key(rules), hits: retainHits(hits, rules, now) }], now), judge([{ key: key(rules), hits }], now));
    }
  });

  it('no send interval when it is set to 0; no address key without an address', () => {
    assert.deepEqual(codeSendKeys({ ...s, sendCodeUserInterval: 0 }, 'u', undefined), [
      { bucket: 'send-code-user', key: 'u', rules: [{ limit: 10, windowSeconds: 3600 }] },
    ]);
    assert.equal(codeSendKeys(s, 'u', '::1').length, 3);
  });

  it('the interval is a key of explicit sends only: an automatic send neither waits for it nor uses it', () => {
    assert.deepEqual(codeSendKeys(s, 'u', '::1').map((k) => [k.bucket, k.rules]), [
      ['send-code-explicit', [{ limit: 1, windowSeconds: 60 }]],
      ['send-code-user', [{ limit: 10, windowSeconds: 3600 }]],
      ['send-code-address', [{ limit: 30, windowSeconds: 3600 }]],
    ]);
    assert.deepEqual(codeSendKeys(s, 'u', '::1', true).map((k) => k.bucket), ['send-code-user', 'send-code-address']);
  });

  it('the rate-limit error carries timeToReset in seconds and the header values', () => {
    const v = judge([{ key: key([{ limit: 1, windowSeconds: 60 }]), hits: [T] }], T + 15_000);
    const e = tooManyRequests(v);
    assert.equal(e.code, 'error-too-many-requests');
    assert.equal(e.status, 429);
    assert.deepEqual(e.details, { timeToReset: 45, seconds: 45 });
    assert.deepEqual(e.rateLimit, { limit: 1, remaining: 0, resetAt: T + 60_000, retryAfter: 45 });
  });
});
