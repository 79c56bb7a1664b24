// Abuse limits as sliding windows (spec §3.6). Each limited thing — a user's code mails, an
// address's wrong passwords — keeps the times of its recent hits; this module decides from
// those times and `now` alone. The store holds the times and applies a verdict atomically.

import { TwofoldError } from '../errors.ts';

export type RateBucket = 'send-code-user' | 'send-code-explicit' | 'send-code-address' | 'login-user' | 'login-address'
  // Anonymous mail senders other than codes (src/core/account-limits.ts).
  | 'register-address' | 'verify-mail-address' | 'verify-mail-target';

/** At most `limit` hits in any `windowSeconds`. */
export interface RateRule {
  limit: number;
  windowSeconds: number;
}

export interface RateKey {
  bucket: RateBucket;
  key: string;
  rules: RateRule[];
}

export interface RateVerdict {
  allowed: boolean;
  /** The key that decided: the one that refused, or the one with the least room left. */
  bucket: RateBucket | null;
  limit: number;
  /** Hits left after this one (0 when refused). */
  remaining: number;
  /** Epoch ms: when a refused hit would pass, or when the window frees a slot again. */
  resetAt: number;
  /** Whole seconds until `resetAt` (at least 1 when refused). */
  timeToReset: number;
}

interface RuleVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetAt: number;
}

function judgeRule(hits: readonly number[], rule: RateRule, now: number): RuleVerdict {
  const windowMs = rule.windowSeconds * 1000;
  const recent = hits.filter((at) => at > now - windowMs).sort((a, b) => a - b);
  if (recent.length >= rule.limit) {
    // Refused until enough hits age out to leave one slot free.
    return { allowed: false, limit: rule.limit, remaining: 0, resetAt: recent[recent.length - rule.limit]! + windowMs };
  }
  return { allowed: true, limit: rule.limit, remaining: rule.limit - recent.length - 1, resetAt: (recent[0] ?? now) + windowMs };
}

/** All rules of one key: refused if any refuses (the longest wait wins), else the tightest. */
function judgeRules(hits: readonly number[], rules: readonly RateRule[], now: number): RuleVerdict | null {
  let worst: RuleVerdict | null = null;
  for (const rule of rules) {
    const v = judgeRule(hits, rule, now);
    if (!worst) worst = v;
    else if (!v.allowed && (worst.allowed || v.resetAt > worst.resetAt)) worst = v;
    else if (v.allowed && worst.allowed && v.remaining < worst.remaining) worst = v;
  }
  return worst;
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/**
 * One hit on every key, allowed only if every key allows it. A refusal names the first
 * refusing key in the order given (login checks the address before the user, as
 * Rocket.Chat does).
 */
export function judge(keys: readonly { key: RateKey; hits: readonly number[] }[], now: number): RateVerdict {
  let tightest: (RuleVerdict & { bucket: RateBucket }) | null = null;
  for (const { key, hits } of keys) {
    const v = judgeRules(hits, key.rules, now);
    if (!v) continue;
    if (!v.allowed) {
      return { allowed: false, bucket: key.bucket, limit: v.limit, remaining: 0, resetAt: v.resetAt, timeToReset: Math.max(1, seconds(v.resetAt - now)) };
    }
    if (!tightest || v.remaining < tightest.remaining) tightest = { ...v, bucket: key.bucket };
  }
  if (!tightest) return { allowed: true, bucket: null, limit: 0, remaining: 0, resetAt: now, timeToReset: 0 };
  return { allowed: true, bucket: tightest.bucket, limit: tightest.limit, remaining: tightest.remaining, resetAt: tightest.resetAt, timeToReset: seconds(tightest.resetAt - now) };
}

/**
 * The hits worth keeping: those inside the longest window, and no more than the largest
 * limit (the newest ones), which is all `judge` ever needs. This bounds every stored list.
 */
export function retainHits(hits: readonly number[], rules: readonly RateRule[], now: number): number[] {
  const longest = Math.max(0, ...rules.map((r) => r.windowSeconds)) * 1000;
  const most = Math.max(0, ...rules.map((r) => r.limit));
  return hits.filter((at) => at > now - longest).sort((a, b) => a - b).slice(-most);
}

export const longestWindowMs = (rules: readonly RateRule[]) => Math.max(0, ...rules.map((r) => r.windowSeconds)) * 1000;

export interface LimitSettings {
  sendCodeUserInterval: number;
  sendCodeUserPerHour: number;
  sendCodeAddressPerHour: number;
  loginFailuresPerUser: number;
  loginFailuresPerAddress: number;
  loginBlockSeconds: number;
}

const HOUR = 3600;

/**
 * Mailing one email code to a user, asked from an address. Every send counts in the hourly
 * caps. The short interval is an anti-double-click guard between two *explicit* requests
 * (`sendEmailCode`) and has its own key that automatic sends never touch: a challenge that
 * mailed a code is typically followed at once by the client's "send again", which Rocket.Chat
 * answers, and a 429 inside a challenge breaks its clients (and an automatic send refused by
 * the interval would leave the user with no code at all).
 */
export function codeSendKeys(s: LimitSettings, userId: string, address: string | undefined, automatic = false): RateKey[] {
  const keys: RateKey[] = [];
  if (s.sendCodeUserInterval > 0 && !automatic) {
    keys.push({ bucket: 'send-code-explicit', key: userId, rules: [{ limit: 1, windowSeconds: s.sendCodeUserInterval }] });
  }
  keys.push({ bucket: 'send-code-user', key: userId, rules: [{ limit: s.sendCodeUserPerHour, windowSeconds: HOUR }] });
  if (address) keys.push({ bucket: 'send-code-address', key: address, rules: [{ limit: s.sendCodeAddressPerHour, windowSeconds: HOUR }] });
  return keys;
}

/** One password attempt for a login name from an address; the address is judged first. */
export function loginKeys(s: LimitSettings, loginKey: string, address: string | undefined): RateKey[] {
  const keys: RateKey[] = [];
  if (address) keys.push({ bucket: 'login-address', key: address, rules: [{ limit: s.loginFailuresPerAddress, windowSeconds: s.loginBlockSeconds }] });
  keys.push({ bucket: 'login-user', key: loginKey, rules: [{ limit: s.loginFailuresPerUser, windowSeconds: s.loginBlockSeconds }] });
  return keys;
}

const rateLimitOf = (v: RateVerdict) => ({ limit: v.limit, remaining: v.remaining, resetAt: v.resetAt, retryAfter: v.timeToReset });

/**
 * Rocket.Chat's rate-limit error, except that `timeToReset` is in seconds as spec §3.6 says;
 * `seconds` repeats it under the name Rocket.Chat uses for the seconds.
 */
export function tooManyRequests(v: RateVerdict): TwofoldError {
  return new TwofoldError(
    'error-too-many-requests',
    { timeToReset: v.timeToReset, seconds: v.timeToReset },
    `Error, too many requests. Please slow down. You must wait ${v.timeToReset} seconds before trying this endpoint again.`,
  ).withRateLimit(rateLimitOf(v));
}

export function loginBlocked(v: RateVerdict): TwofoldError {
  const code = v.bucket === 'login-address' ? 'error-login-blocked-for-ip' : 'error-login-blocked-for-user';
  return new TwofoldError(code, { timeToReset: v.timeToReset }).withRateLimit(rateLimitOf(v));
}
