import { maskEmail, verifiedEmails, type User } from '../accounts.ts';
import { newId, newSixDigitCode } from '../random.ts';
import { constantTimeEqual } from '../secrets.ts';
import { emitEvent } from './events.ts';
import type { TwoFactorDeps, TwoFactorSettings } from './types.ts';

export const isEmailEnabled = (user: User, s: TwoFactorSettings) =>
  s.email2faEnabled && user.email2faEnabled && verifiedEmails(user).length > 0;

/** Codes are shown as 123-456; people type them with a dash or spaces (spec §3.1). */
export const normalizeEmailCode = (code: string) => code.replace(/\D/g, '');

export const formatEmailCode = (code: string) => `${code.slice(0, 3)}-${code.slice(3)}`;

/**
 * Creates, stores (keyed hash only) and mails a fresh code; returns where it went.
 * Over the send limits (spec §3.6) it throws `error-too-many-requests` and mails nothing.
 */
export async function sendNewEmailCode(deps: TwoFactorDeps, user: User, opts: { automatic?: boolean } = {}): Promise<{ addresses: string[]; expiresAt: number }> {
  await deps.limits?.takeCodeSend(user.id, deps.client, opts.automatic);
  const addresses = verifiedEmails(user);
  const now = deps.clock.now();
  const code = newSixDigitCode(deps.random);
  const expiresAt = now + deps.settings.emailCodeTtl * 1000;
  await deps.store.addEmailCode(user.id, {
    id: newId(deps.random), codeHash: deps.keys.hashCode(user.id, code), createdAt: now, expiresAt,
  }, deps.settings.emailCodeMaxLive, now);
  await deps.sendCodeMail(user, addresses, code, expiresAt);
  await emitEvent(deps, { event: 'code-sent', userId: user.id, method: 'email', details: { addresses: addresses.length } });
  return { addresses, expiresAt };
}

export interface EmailChallengeDetails {
  codeGenerated: boolean;
  codeCount: number;
  codeExpires: string[];
  emailOrUsername: string;
  /** Where the codes go, masked as for an anonymous sendEmailCode: the caller may not have signed in yet. */
  destinations: string[];
}

/** Sends a code unless one is live, and describes the live codes for the error details. */
export async function prepareEmailChallenge(deps: TwoFactorDeps, user: User, send: boolean): Promise<EmailChallengeDetails> {
  let live = await deps.store.liveEmailCodes(user.id, deps.clock.now());
  let codeGenerated = false;
  if (send && live.length === 0) {
    await sendNewEmailCode(deps, user, { automatic: true });
    codeGenerated = true;
    live = await deps.store.liveEmailCodes(user.id, deps.clock.now());
  }
  return {
    codeGenerated,
    codeCount: live.length,
    codeExpires: live.map((c) => new Date(c.expiresAt).toISOString()),
    emailOrUsername: user.username,
    destinations: verifiedEmails(user).map(maskEmail),
  };
}

/** True when `code` matches a live code, which is then consumed with every older one. */
export async function verifyEmailCode(deps: TwoFactorDeps, user: User, code: string): Promise<boolean> {
  const digits = normalizeEmailCode(code);
  if (digits.length !== 6) return false;
  const hash = deps.keys.hashCode(user.id, digits);
  const live = await deps.store.liveEmailCodes(user.id, deps.clock.now());
  // Check every live code so the time taken does not tell which one matched.
  let match: (typeof live)[number] | undefined;
  for (const c of live) if (constantTimeEqual(c.codeHash, hash) && !match) match = c;
  if (!match) return false;
  return deps.store.consumeEmailCode(user.id, match);
}
