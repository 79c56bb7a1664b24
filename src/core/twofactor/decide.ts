// The second-factor decision as a pure function: from the state the engine loaded (the user,
// the caller's token), the request and the settings at one instant, what must happen. No
// I/O: the engine (engine.ts) applies the decision (mail, failure counts, audit, remembering).

import type { User } from '../accounts.ts';
import { constantTimeEqual } from '../secrets.ts';
import { OFFERED_METHODS, type OfferedMethod } from './methods/index.ts';
import type { CallerToken, CheckRequest, MethodName, RememberedDeviceState, TwoFactorSettings } from './types.ts';

/** The methods a user can be asked for, in the order they are preferred (spec §3.1). */
export function availableMethods(user: User, s: TwoFactorSettings): OfferedMethod[] {
  return OFFERED_METHODS.filter((m) => m.isEnabled(user, s)).map((m) => m.answers as OfferedMethod);
}

export function isRemembered(token: CallerToken | null | undefined, fingerprint: string | undefined, now: number): boolean {
  if (!token || !fingerprint || token.twofaUntil === null || token.twofaFingerprint === null) return false;
  return token.twofaUntil > now && constantTimeEqual(token.twofaFingerprint, fingerprint);
}

/**
 * "Remember this device": a device token lets a sign-in of the user it was issued to, from a
 * browser with the same fingerprint, skip the second factor until it expires. Nothing else:
 * a protected call asks as it would.
 */
export function isRememberedDevice(device: RememberedDeviceState | null | undefined, user: User, fingerprint: string | undefined, now: number, s: TwoFactorSettings): boolean {
  // Days 0 turns the feature off at once, also for devices remembered before.
  if (!device || !fingerprint || s.rememberDeviceDays <= 0) return false;
  const sameUser = constantTimeEqual(device.userId, user.id);
  const sameBrowser = constantTimeEqual(device.fingerprint, fingerprint);
  return sameUser && sameBrowser && device.expiresAt > now;
}

interface Selection {
  method: MethodName | null;
  available: OfferedMethod[];
}

/** Spec §3.2 steps 3–4: the method named by the client, else the first enabled one, else the fallback. */
export function selectMethod(user: User, req: Pick<CheckRequest, 'method' | 'purpose' | 'requireSecondFactor'>, s: TwoFactorSettings): Selection {
  const available = availableMethods(user, s);
  // The password is never a second factor at login: it is already the first.
  const fallbackApplies = req.purpose === 'call' && user.passwordHash !== null && available.length === 0
    && (s.passwordFallback || req.requireSecondFactor === true);
  let method: MethodName | null;
  if (req.method === 'totp' || req.method === 'email' || req.method === 'webauthn') method = req.method;
  else if (req.method === 'password' && fallbackApplies) method = 'password';
  else method = available[0] ?? (fallbackApplies ? 'password' : null);
  return { method, available };
}

/** What the engine loaded before deciding. */
export interface DecisionState {
  user: User;
  token?: CallerToken | null | undefined;
  /** Login only: the remembered device the sign-in named, as stored. */
  device?: RememberedDeviceState | null | undefined;
}

/**
 * The request: a call or a login (the operation's policy), or the authenticator's own code
 * given as an operation's argument (`code-argument`: the app's code, checked even with 2FA
 * off globally, never remembered, and nothing mailed when it is missing). `emailCode` is set
 * when the caller named the email method instead (a lost phone): for a user with email codes
 * on, that emailed code stands in for the argument, and an empty one mails a code.
 */
export type DecisionRequest =
  | Omit<CheckRequest, 'user' | 'token' | 'client' | 'device'>
  | { purpose: 'code-argument'; code: string; emailCode?: string | undefined };

export type Decision =
  /** Nothing to check: 2FA off, a remembered success, no method, the new-account grace, or a sign-in from a remembered device. */
  | { kind: 'pass'; passed: 'off' | 'remembered' | 'nothing-to-ask' | 'grace' | 'device' }
  /** No code: ask for `method` (`send`: an email code may be mailed now). */
  | { kind: 'challenge'; method: MethodName; available: string[]; send: boolean }
  /** Check `code` for `method` inside the failure budget; on success remember it for the token when said. */
  | { kind: 'verify'; method: MethodName; available: string[]; code: string; remember: { tokenHash: string; until: number; fingerprint: string } | null };

export function decide(state: DecisionState, req: DecisionRequest, s: TwoFactorSettings, now: number): Decision {
  const { user } = state;
  if (req.purpose === 'code-argument') {
    const available = availableMethods(user, s);
    // Without email codes on (and a verified address) the email way does not exist: the app's code is asked.
    if (req.emailCode !== undefined && available.includes('email')) {
      if (req.emailCode === '') return { kind: 'challenge', method: 'email', available, send: true };
      return { kind: 'verify', method: 'email', available, code: req.emailCode, remember: null };
    }
    if (req.code === '') return { kind: 'challenge', method: 'totp', available, send: false };
    return { kind: 'verify', method: 'totp', available, code: req.code, remember: null };
  }
  if (!s.twoFactorEnabled) return { kind: 'pass', passed: 'off' };
  const rememberable = req.purpose === 'call' && req.policy === 'ask' && s.rememberFor > 0;
  // RememberFor 0 turns remembering off at once, also for successes remembered before.
  if (rememberable && isRemembered(state.token, req.fingerprint, now)) return { kind: 'pass', passed: 'remembered' };

  const { method, available } = selectMethod(user, req, s);
  if (method === null) return { kind: 'pass', passed: 'nothing-to-ask' };
  // Only the sign-in's own second factor: a call, even an 'ask' one, never passes on a device.
  if (req.purpose === 'login' && isRememberedDevice(state.device, user, req.deviceFingerprint, now, s)) return { kind: 'pass', passed: 'device' };
  // A brand-new account has had no chance to set up a method: do not make it type its password yet.
  if (method === 'password' && req.policy === 'ask' && user.createdAt + s.rememberFor * 1000 > now) return { kind: 'pass', passed: 'grace' };

  const code = req.code ?? '';
  if (code === '') return { kind: 'challenge', method, available, send: true };
  const remember = rememberable && state.token && req.fingerprint
    ? { tokenHash: state.token.tokenHash, until: now + s.rememberFor * 1000, fingerprint: req.fingerprint }
    : null;
  return { kind: 'verify', method, available, code, remember };
}
