// The second-factor check, in one place for every operation and both transports: `decide`
// (decide.ts, pure) says which method applies and whether a code is needed; this module
// carries that out (failure budget, replay-proof verification by the method's module,
// suspension, mail, audit). Storage, clock, randomness and mail come in through `deps`.

import type { MissReason } from '../../contract/api.ts';
import { verifiedEmails, type User } from '../accounts.ts';
import type { AuditDetails, AuditEvent } from '../audit.ts';
import { TwofoldError } from '../errors.ts';
import { newId } from '../random.ts';
import { MAX_CODE_LENGTH } from './answer.ts';
import { decide, type Decision } from './decide.ts';
import { emitEvent, forClient } from './events.ts';
import { methodFor } from './methods/index.ts';
import { MAX_WEBAUTHN_ANSWER_LENGTH, webauthnMethod } from './methods/webauthn.ts';
import { matchTotpStep } from './totp.ts';
import type { CheckOutcome, CheckRequest, MethodName, TwoFactorDeps, TwoFactorSettings } from './types.ts';
import { constantTimeEqual } from '../secrets.ts';
import { isBackupCodeShape } from './backup-codes.ts';
import { normalizeEmailCode } from './email-codes.ts';
import { isTotpEnabled } from './totp.ts';

export { MAX_CODE_LENGTH };

export { availableMethods, isRemembered, selectMethod } from './decide.ts';

/**
 * The asked method's details; when passkeys are available but another method is asked (so
 * that Rocket.Chat clients get the method they know), the passkey request options ride
 * along, so a client that knows passkeys can answer with one instead.
 */
async function challengeDetails(deps: TwoFactorDeps, user: User, method: MethodName, available: string[], send: boolean) {
  const details = await methodFor(method, '').challenge(deps, user, available, send);
  if (method !== 'webauthn' && available.includes('webauthn')) {
    const { webauthn } = await webauthnMethod.challenge(deps, user, available, false);
    if (webauthn !== undefined) details.webauthn = webauthn;
  }
  return details;
}

/** The module the code is for checks it, if the user can use that module at all. */
async function verifyCode(deps: TwoFactorDeps, user: User, method: MethodName, code: string): Promise<boolean> {
  const m = methodFor(method, code);
  return m.isEnabled(user, deps.settings) && m.verify(deps, user, code);
}

/**
 * Passes, or throws `totp-required` / `totp-invalid` / `totp-max-attempts` with the
 * details the protocol defines (spec §3.3).
 */
export async function checkSecondFactor(deps: TwoFactorDeps, req: CheckRequest): Promise<CheckOutcome> {
  deps = forClient(deps, req.client);
  return applyDecision(deps, req.user, decide({ user: req.user, token: req.token, device: req.device }, req, deps.settings, deps.clock.now()));
}

/** Carries out what `decide` said: the only place the decision touches storage, mail and the audit trail. */
async function applyDecision(deps: TwoFactorDeps, user: User, d: Decision): Promise<CheckOutcome> {
  switch (d.kind) {
    case 'pass':
      return { passed: d.passed };
    case 'challenge':
      // A suspended user is not sent codes they could not use.
      if (d.send && await deps.store.isSuspended(user.id)) throw suspendedError();
      throw new TwofoldError('totp-required', await challengeDetails(deps, user, d.method, d.available, d.send));
    case 'verify':
      await verifyWithinLimits(deps, user, d.method, d.available, d.code, d.remember);
      return { passed: 'verified', method: d.method };
  }
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
async function verifyWithinLimits(
  deps: TwoFactorDeps, user: User, method: MethodName, available: string[], code: string, remember?: CodeCheck['remember'],
): Promise<void> {
  await guardedCheck(deps, user, method, available, {
    details: codeKind(method, code),
    slow: methodFor(method, code).slow === true,
    verify: async (d) => code.length <= maxCodeLength(method) && verifyCode(d, user, method, code),
    explainMiss: (d) => missReason(d, user, method, code),
    remember,
  });
}

const maxCodeLength = (method: MethodName) => (method === 'webauthn' ? MAX_WEBAUTHN_ANSWER_LENGTH : MAX_CODE_LENGTH);

export const suspendedError = () => new TwofoldError('error-2fa-suspended', { recover: '/api/v1/users.2fa.recover' });

/** One code check, as guardedCheck runs it. Each function gets the deps to use: inside the check's transaction, its store. */
export interface CodeCheck {
  /** For the audit trail (which kind of code, never the code). */
  details: AuditDetails | undefined;
  /** True for a good code, which it spends (replay-proof). */
  verify(deps: TwoFactorDeps): Promise<boolean>;
  /** Why a code was refused, for the error's `reason`; absent: 'wrong'. */
  explainMiss?(deps: TwoFactorDeps): Promise<MissReason>;
  /** On success, the token whose success is remembered (spec §3.5). */
  remember?: { tokenHash: string; until: number; fingerprint: string } | null | undefined;
  /** `verify` waits for slow work: reserve before, settle after (see `SecondFactorMethod.slow`). */
  slow?: boolean;
}

/** What a check came to; the error is built from it once the check's writes are committed. */
type Verdict =
  | { kind: 'passed' }
  /** `mail`: this very check suspended the user, who is told by mail. */
  | { kind: 'suspended'; mail: boolean }
  | { kind: 'window-full'; retryAfter: number }
  | { kind: 'email-burnt' }
  | { kind: 'wrong'; reason: MissReason; attemptsLeft: number; retryAfter?: number };

/**
 * Runs one code check inside the failure budget: at most `failureLimit` failures in the
 * window, however many requests arrive at once; a success ends the run of consecutive
 * failures, and the consecutive failure that reaches `maxConsecutiveFailures` suspends the
 * second factor: no more checks at all until the user recovers (an emailed recovery code) or
 * an admin resets it.
 *
 * A check whose verifier is quick (TOTP, email and backup codes, TOTP enrolment) runs whole in
 * one store transaction under the user's lock (`runCheck`): the state, the verification with
 * its replay guard, and the success or the failure with its counts and audit events are stored
 * together or not at all, and concurrent checks of one user take turns. A slow verifier
 * (argon2, a passkey) must not hold the transaction, so its check is counted as a failure
 * *before* the verifier runs (`reserveCheck`, under the lock) and a success gives it back.
 * Mail and the error's details (which may hand out a passkey challenge) come after the commit.
 */
export async function guardedCheck(deps: TwoFactorDeps, user: User, method: MethodName, available: string[], check: CodeCheck): Promise<void> {
  const verdict = check.slow ? await reservedCheck(deps, user, method, check) : await oneTransactionCheck(deps, user, method, check);
  switch (verdict.kind) {
    case 'passed':
      return;
    case 'suspended': {
      const addresses = verifiedEmails(user);
      if (verdict.mail && addresses.length) await deps.sendSuspendedMail?.(user, addresses);
      throw suspendedError();
    }
    case 'window-full':
      throw new TwofoldError('totp-max-attempts', { ...await challengeDetails(deps, user, method, available, false), retryAfter: verdict.retryAfter });
    case 'email-burnt':
      throw new TwofoldError('totp-max-attempts', await challengeDetails(deps, user, method, available, false));
    case 'wrong': {
      // Extra keys after the protocol's own (Rocket.Chat clients read those and ignore the rest), for pages that say what happened.
      const { reason, attemptsLeft, retryAfter } = verdict;
      const extra = retryAfter === undefined ? { reason, attemptsLeft } : { reason, attemptsLeft, retryAfter };
      throw new TwofoldError('totp-invalid', { ...await challengeDetails(deps, user, method, available, false), ...extra });
    }
  }
}

async function oneTransactionCheck(deps: TwoFactorDeps, user: User, method: MethodName, check: CodeCheck): Promise<Verdict> {
  const s = deps.settings;
  const now = deps.clock.now();
  const stored: AuditEvent[] = [];
  const verdict = await deps.store.runCheck(user.id, now, async (tx): Promise<Verdict> => {
    const { audit } = deps;
    const d: TwoFactorDeps = {
      ...deps,
      store: tx.store,
      audit: tx.audit && audit ? async (event) => { await tx.audit!(event); stored.push(event); } : audit,
    };
    if (tx.state.suspended) return { kind: 'suspended', mail: false };
    // The last checks before a suspension are in flight (slow ones, reserved): wait for their outcome.
    if (tx.state.failuresInRow >= s.maxConsecutiveFailures
      || await d.store.countFailures(user.id, now - s.failureWindow * 1000) >= s.failureLimit) return windowFull(d, user, method);
    if (await check.verify(d)) {
      await emitEvent(d, { event: '2fa-success', userId: user.id, method, details: check.details });
      if (tx.state.failuresInRow > 0) await d.store.resetFailuresInRow(user.id);
      if (check.remember) await d.store.remember(check.remember.tokenHash, check.remember.until, check.remember.fingerprint);
      return { kind: 'passed' };
    }
    // Before the email attempt limit burns the codes: telling an expired email code from a wrong one needs them as they were.
    const reason = await check.explainMiss?.(d) ?? 'wrong';
    await emitEvent(d, { event: '2fa-failure', userId: user.id, method, details: check.details });
    const suspends = await d.store.failedCheck(user.id, method, now, newId(deps.random), s.maxConsecutiveFailures);
    return afterFailure(d, user, method, reason, suspends);
  });
  // Committed: now the log may say so.
  for (const event of stored) deps.auditLogged?.(event);
  return verdict;
}

async function reservedCheck(deps: TwoFactorDeps, user: User, method: MethodName, check: CodeCheck): Promise<Verdict> {
  const s = deps.settings;
  const now = deps.clock.now();
  const id = newId(deps.random);
  const reservation = await deps.store.reserveCheck(user.id, method, now, id,
    { since: now - s.failureWindow * 1000, limit: s.failureLimit, maxConsecutive: s.maxConsecutiveFailures });
  if (reservation === 'suspended') return { kind: 'suspended', mail: false };
  if (reservation === 'window-full') return windowFull(deps, user, method);
  // A verifier that throws leaves the reservation counted: a failure is the safe reading.
  if (await check.verify(deps)) {
    await deps.store.checkPassed(user.id, id);
    await emitEvent(deps, { event: '2fa-success', userId: user.id, method, details: check.details });
    if (check.remember) await deps.store.remember(check.remember.tokenHash, check.remember.until, check.remember.fingerprint);
    return { kind: 'passed' };
  }
  const reason = await check.explainMiss?.(deps) ?? 'wrong';
  await emitEvent(deps, { event: '2fa-failure', userId: user.id, method, details: check.details });
  return afterFailure(deps, user, method, reason, await deps.store.checkFailed(user.id, now, s.maxConsecutiveFailures));
}

async function windowFull(deps: TwoFactorDeps, user: User, method: MethodName): Promise<Verdict> {
  await emitEvent(deps, { event: 'lockout', userId: user.id, method, details: { reason: 'failure-window' } });
  return { kind: 'window-full', retryAfter: await lockedFor(deps, user) };
}

/** The failure is counted; `suspends`: it was the one that reached the limit of failures in a row. */
async function afterFailure(deps: TwoFactorDeps, user: User, method: MethodName, reason: MissReason, suspends: boolean): Promise<Verdict> {
  if (suspends) {
    // Whoever was guessing may be signing in from a device the owner let skip the code: none may now.
    await deps.store.forgetDevices?.(user.id);
    const mailed = verifiedEmails(user).length;
    await emitEvent(deps, { event: '2fa-suspended', userId: user.id, method, details: { consecutiveFailures: deps.settings.maxConsecutiveFailures, mailed } });
    return { kind: 'suspended', mail: true };
  }
  if (method === 'email' && await emailAttemptsSpent(deps, user, method)) return { kind: 'email-burnt' };
  const attemptsLeft = await attemptsLeftFor(deps, user, method);
  return attemptsLeft === 0 ? { kind: 'wrong', reason, attemptsLeft, retryAfter: await lockedFor(deps, user) } : { kind: 'wrong', reason, attemptsLeft };
}

/** For the audit trail: which kind of code it was, never the code. */
const codeKind = (method: MethodName, code: string) => (methodFor(method, code).name === 'backup-code' ? { backupCode: true } : undefined);

/**
 * The authenticator's own calls (turn it off, new backup codes) take its code as their
 * argument, as Rocket.Chat's `2fa:*` methods do. The code proves possession of the thing
 * being changed, so it is checked even with 2FA switched off globally, and never
 * remembered; the failure budget and the replay guard are the same as for every check.
 * `emailCode` (the caller named the email method): someone who lost the phone proves
 * themself with an emailed code instead, when they have email codes on; empty mails one.
 */
export async function checkAuthenticatorCode(
  deps: TwoFactorDeps, user: User, code: string, client?: CheckRequest['client'], emailCode?: string,
): Promise<CheckOutcome> {
  deps = forClient(deps, client);
  return applyDecision(deps, user, decide({ user }, { purpose: 'code-argument', code, emailCode }, deps.settings, deps.clock.now()));
}

/**
 * The first code of an authenticator being enrolled, checked against its pending secret. It
 * is guessed like any other: the same failure budget (counting towards a suspension), and its
 * time step is accepted once (spec §3.6). `onWrong` runs when the code was looked at and was
 * wrong, before the error is thrown (the caller burns the pending secret after too many).
 */
export async function checkEnrolmentCode(
  deps: TwoFactorDeps, user: User, pendingSecret: string, code: string, client?: CheckRequest['client'], onWrong?: () => Promise<void>,
): Promise<void> {
  deps = forClient(deps, client);
  let wrong = false;
  try {
    await guardedCheck(deps, user, 'totp', [], {
      details: { enrolment: true },
      async verify(d) {
        const step = matchTotpStep(d.keys.decrypt(pendingSecret), code, d.clock.now(), d.settings.totpMaxDelta);
        const accepted = step !== null && await d.store.acceptTotpStep(user.id, step);
        if (step !== null && !accepted) await emitEvent(d, { event: 'totp-replay', userId: user.id, method: 'totp', details: { step, enrolment: true } });
        wrong = !accepted;
        return accepted;
      },
    });
  } catch (e) {
    if (wrong) await onWrong?.();
    throw e;
  }
}

/** After too many wrong email codes the live ones are burnt (true); the next call mails a fresh one. */
async function emailAttemptsSpent(deps: TwoFactorDeps, user: User, method: MethodName): Promise<boolean> {
  const live = await deps.store.liveEmailCodes(user.id, deps.clock.now());
  const since = live[0]?.createdAt ?? deps.clock.now() - deps.settings.failureWindow * 1000;
  if (await deps.store.countFailures(user.id, since, 'email') < deps.settings.emailCodeMaxAttempts) return false;
  await deps.store.dropEmailCodes(user.id);
  await emitEvent(deps, { event: 'lockout', userId: user.id, method, details: { reason: 'email-attempts' } });
  return true;
}

/**
 * 'used': a TOTP code of a time step already accepted (a replay). 'expired': an email code
 * that matches one whose lifetime is over (kept until the next send or the periodic purge),
 * or any email code when none is live and one expired within the last lifetime. Everything
 * else, including a backup code or an email code that was already used (both are deleted
 * when used, so nothing is left to compare with), is 'wrong'.
 */
async function missReason(deps: TwoFactorDeps, user: User, method: MethodName, code: string): Promise<MissReason> {
  const now = deps.clock.now();
  if (code.length > maxCodeLength(method)) return 'wrong';
  if (method === 'totp' && !isBackupCodeShape(code) && user.totpSecret && isTotpEnabled(user, deps.settings)) {
    return matchTotpStep(deps.keys.decrypt(user.totpSecret), code, now, deps.settings.totpMaxDelta) === null ? 'wrong' : 'used';
  }
  if (method !== 'email') return 'wrong';
  const recent = await deps.store.liveEmailCodes(user.id, now - deps.settings.emailCodeTtl * 1000);
  const expired = recent.filter((c) => c.expiresAt <= now);
  if (expired.length === 0) return 'wrong';
  if (recent.length === expired.length) return 'expired';
  const hash = deps.keys.hashCode(user.id, normalizeEmailCode(code));
  let match = false;
  for (const c of expired) if (constantTimeEqual(c.codeHash, hash)) match = true;
  return match ? 'expired' : 'wrong';
}

/** Wrong codes left before `totp-max-attempts`: the failure window's budget, and for email the live codes' own. */
async function attemptsLeftFor(deps: TwoFactorDeps, user: User, method: MethodName): Promise<number> {
  const s = deps.settings;
  const now = deps.clock.now();
  let left = s.failureLimit - await deps.store.countFailures(user.id, now - s.failureWindow * 1000);
  if (method === 'email') {
    const live = await deps.store.liveEmailCodes(user.id, now);
    if (live[0]) left = Math.min(left, s.emailCodeMaxAttempts - await deps.store.countFailures(user.id, live[0].createdAt, 'email'));
  }
  return Math.max(0, left);
}

/**
 * Seconds until the failure window lets one more check through: when enough of the
 * failures in it have aged out. Without the store's failure times, the whole window.
 */
async function lockedFor(deps: TwoFactorDeps, user: User): Promise<number> {
  const s = deps.settings;
  const now = deps.clock.now();
  const windowMs = s.failureWindow * 1000;
  const times = await deps.store.failureTimes?.(user.id, now - windowMs);
  if (!times) return s.failureWindow;
  const sorted = [...times].sort((a, b) => a - b);
  const freeing = sorted[sorted.length - s.failureLimit];
  // A failure counts while it is at most a window old, so the try after that millisecond passes.
  return freeing === undefined ? 0 : Math.max(1, Math.ceil((freeing + windowMs + 1 - now) / 1000));
}
