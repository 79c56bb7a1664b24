// The second-factor decision, in one place for every operation and both transports:
// which method applies, whether a code is needed, whether the given code is good.
// No I/O of its own: storage, clock, randomness and mail come in through `deps`.

import { verifiedEmails, type User } from '../accounts.ts';
import type { AuditDetails } from '../audit.ts';
import { TwofoldError } from '../errors.ts';
import { newId } from '../random.ts';
import { constantTimeEqual } from '../secrets.ts';
import { isBackupCodeShape, verifyBackupCode } from './backup-codes.ts';
import { isEmailEnabled, prepareEmailChallenge, verifyEmailCode } from './email-codes.ts';
import { emitEvent, forClient } from './events.ts';
import { verifyPasswordCode } from './password-fallback.ts';
import { isTotpEnabled, verifyTotpCode } from './totp.ts';
import type { CallerToken, CheckOutcome, CheckRequest, MethodName, TwoFactorDeps, TwoFactorSettings } from './types.ts';

/** Longest code worth looking at: a SHA-256 hex digest. Anything longer is wrong. */
export const MAX_CODE_LENGTH = 128;

/** The methods a user can be asked for, in the order they are preferred (spec §3.1). */
export function availableMethods(user: User, s: TwoFactorSettings): ('totp' | 'email')[] {
  const out: ('totp' | 'email')[] = [];
  if (isTotpEnabled(user, s)) out.push('totp');
  if (isEmailEnabled(user, s)) out.push('email');
  return out;
}

export function isRemembered(token: CallerToken | null | undefined, fingerprint: string | undefined, now: number): boolean {
  if (!token || !fingerprint || token.twofaUntil === null || token.twofaFingerprint === null) return false;
  return token.twofaUntil > now && constantTimeEqual(token.twofaFingerprint, fingerprint);
}

interface Selection {
  method: MethodName | null;
  available: ('totp' | 'email')[];
}

/** Spec §3.2 steps 3–4: the method named by the client, else the first enabled one, else the fallback. */
export function selectMethod(user: User, req: Pick<CheckRequest, 'method' | 'purpose' | 'requireSecondFactor'>, s: TwoFactorSettings): Selection {
  const available = availableMethods(user, s);
  // The password is never a second factor at login: it is already the first.
  const fallbackApplies = req.purpose === 'call' && user.passwordHash !== null && available.length === 0
    && (s.passwordFallback || req.requireSecondFactor === true);
  let method: MethodName | null;
  if (req.method === 'totp' || req.method === 'email') method = req.method;
  else if (req.method === 'password' && fallbackApplies) method = 'password';
  else method = available[0] ?? (fallbackApplies ? 'password' : null);
  return { method, available };
}

async function challengeDetails(deps: TwoFactorDeps, user: User, method: MethodName, available: string[], send: boolean) {
  if (method !== 'email') return { method, codeGenerated: false, availableMethods: available };
  const { emailOrUsername, ...email } = await prepareEmailChallenge(deps, user, send && isEmailEnabled(user, deps.settings));
  // In the seeds' key order (method, codeGenerated, codeCount, codeExpires, availableMethods).
  return { method, ...email, availableMethods: available, emailOrUsername };
}

async function verifyCode(deps: TwoFactorDeps, user: User, method: MethodName, code: string): Promise<boolean> {
  switch (method) {
    case 'email':
      return isEmailEnabled(user, deps.settings) && verifyEmailCode(deps, user, code);
    case 'totp':
      if (!isTotpEnabled(user, deps.settings)) return false;
      // An 8-character input is only ever a backup code (spec §3.7).
      if (isBackupCodeShape(code)) return verifyBackupCode(deps, user, code);
      return verifyTotpCode(deps, user, user.totpSecret!, code);
    case 'password':
      return verifyPasswordCode(deps, user, code);
  }
}

/**
 * Passes, or throws `totp-required` / `totp-invalid` / `totp-max-attempts` with the
 * details the protocol defines (spec §3.3).
 */
export async function checkSecondFactor(deps: TwoFactorDeps, req: CheckRequest): Promise<CheckOutcome> {
  deps = forClient(deps, req.client);
  const s = deps.settings;
  const now = deps.clock.now();
  if (!s.twoFactorEnabled) return { passed: 'off' };
  const rememberable = req.purpose === 'call' && req.policy === 'ask';
  // RememberFor 0 turns remembering off at once, also for successes remembered before.
  if (rememberable && s.rememberFor > 0 && isRemembered(req.token, req.fingerprint, now)) return { passed: 'remembered' };

  const { user } = req;
  const { method, available } = selectMethod(user, req, s);
  if (method === null) return { passed: 'nothing-to-ask' };
  // A brand-new account has had no chance to set up a method: do not make it type its password yet.
  if (method === 'password' && req.policy === 'ask' && user.createdAt + s.rememberFor * 1000 > now) return { passed: 'grace' };

  const code = req.code ?? '';
  if (code === '') {
    // A suspended user is not sent codes they could not use.
    if (await deps.store.isSuspended(user.id)) throw suspendedError();
    throw new TwofoldError('totp-required', await challengeDetails(deps, user, method, available, true));
  }

  await verifyWithinLimits(deps, user, method, available, code);

  if (rememberable && req.token && req.fingerprint && s.rememberFor > 0) {
    await deps.store.remember(req.token.tokenHash, now + s.rememberFor * 1000, req.fingerprint);
  }
  return { passed: 'verified', method };
}

/**
 * A sign-in that passed a second factor counts as a recent success, so the first protected
 * call after it does not ask again (as GitHub's sudo mode): until when its token is remembered,
 * or null when nothing was verified or remembering is off.
 */
export function rememberedAfterLogin(outcome: CheckOutcome, s: TwoFactorSettings, now: number): number | null {
  return outcome.passed === 'verified' && s.rememberLogin && s.rememberFor > 0 ? now + s.rememberFor * 1000 : null;
}

/** The failure budget, the check itself (replay-proof) and the failure count: shared by every kind of check. */
async function verifyWithinLimits(deps: TwoFactorDeps, user: User, method: MethodName, available: string[], code: string): Promise<void> {
  await guardedCheck(deps, user, method, available, codeKind(method, code),
    async () => code.length <= MAX_CODE_LENGTH && verifyCode(deps, user, method, code));
}

export const suspendedError = () => new TwofoldError('error-2fa-suspended', { recover: '/api/v1/users.2fa.recover' });

/**
 * Runs one code check inside the failure budget. The attempt is counted *before* the
 * verifier runs (in one transaction under the user's lock, see the store), so however many
 * requests arrive at once, at most the budget of them reach the verifier; a success gives
 * its count back and ends the run of consecutive failures. The consecutive failure that
 * reaches `maxConsecutiveFailures` suspends the second factor: no more checks at all until
 * the user recovers (an emailed recovery code) or an admin resets it.
 */
export async function guardedCheck(
  deps: TwoFactorDeps, user: User, method: MethodName, available: string[],
  details: AuditDetails | undefined, verify: () => Promise<boolean>,
): Promise<void> {
  const s = deps.settings;
  const now = deps.clock.now();
  const id = newId(deps.random);
  const reservation = await deps.store.reserveCheck(user.id, method, now, id,
    { since: now - s.failureWindow * 1000, limit: s.failureLimit, maxConsecutive: s.maxConsecutiveFailures });
  if (reservation === 'suspended') throw suspendedError();
  if (reservation === 'window-full') {
    await emitEvent(deps, { event: 'lockout', userId: user.id, method, details: { reason: 'failure-window' } });
    throw new TwofoldError('totp-max-attempts', await challengeDetails(deps, user, method, available, false));
  }
  // A verifier that throws leaves the reservation counted: a failure is the safe reading.
  if (await verify()) {
    await deps.store.checkPassed(user.id, id);
    await emitEvent(deps, { event: '2fa-success', userId: user.id, method, details });
    return;
  }
  await emitEvent(deps, { event: '2fa-failure', userId: user.id, method, details });
  if (await deps.store.checkFailed(user.id, now, s.maxConsecutiveFailures)) {
    await suspend(deps, user, method);
    throw suspendedError();
  }
  if (method === 'email') await enforceEmailAttemptLimit(deps, user, method, available);
  throw new TwofoldError('totp-invalid', await challengeDetails(deps, user, method, available, false));
}

async function suspend(deps: TwoFactorDeps, user: User, method: MethodName): Promise<void> {
  const addresses = verifiedEmails(user);
  await emitEvent(deps, { event: '2fa-suspended', userId: user.id, method, details: { consecutiveFailures: deps.settings.maxConsecutiveFailures, mailed: addresses.length } });
  if (addresses.length) await deps.sendSuspendedMail?.(user, addresses);
}

/** For the audit trail: which kind of code it was, never the code. */
const codeKind = (method: MethodName, code: string) => (method === 'totp' && isBackupCodeShape(code) ? { backupCode: true } : undefined);

/**
 * The authenticator's own calls (turn it off, new backup codes) take its code as their
 * argument, as Rocket.Chat's `2fa:*` methods do. The code proves possession of the thing
 * being changed, so it is checked even with 2FA switched off globally, and never
 * remembered; the failure budget and the replay guard are the same as for every check.
 */
export async function checkAuthenticatorCode(deps: TwoFactorDeps, user: User, code: string, client?: CheckRequest['client']): Promise<void> {
  deps = forClient(deps, client);
  const available = availableMethods(user, deps.settings);
  if (code === '') throw new TwofoldError('totp-required', await challengeDetails(deps, user, 'totp', available, false));
  await verifyWithinLimits(deps, user, 'totp', available, code);
}

/** After too many wrong email codes the live ones are burnt; the next call mails a fresh one. */
async function enforceEmailAttemptLimit(deps: TwoFactorDeps, user: User, method: MethodName, available: string[]) {
  const live = await deps.store.liveEmailCodes(user.id, deps.clock.now());
  const since = live[0]?.createdAt ?? deps.clock.now() - deps.settings.failureWindow * 1000;
  if (await deps.store.countFailures(user.id, since, 'email') >= deps.settings.emailCodeMaxAttempts) {
    await deps.store.dropEmailCodes(user.id);
    await emitEvent(deps, { event: 'lockout', userId: user.id, method, details: { reason: 'email-attempts' } });
    throw new TwofoldError('totp-max-attempts', await challengeDetails(deps, user, method, available, false));
  }
}
