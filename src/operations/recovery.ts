import { z } from 'zod';
import { verifiedEmails } from '../core/accounts.ts';
import { TwofoldError } from '../core/errors.ts';
import { newSixDigitCode } from '../core/random.ts';
import { constantTimeEqual } from '../core/secrets.ts';
import { normalizeEmailCode } from '../core/twofactor/email-codes.ts';
import { codeSendKeys, tooManyRequests } from '../core/twofactor/limits.ts';
import { recoveryCodeMail } from '../mail/templates.ts';
import { clientOf, recordAudit } from './shared/audit.ts';
import { loginKeyOf } from './shared/limits.ts';
import type { Deps } from './deps.ts';
import { defineOperation, type OperationContext } from './registry.ts';
import * as s from './schemas.ts';

// Self-service end of a suspension (too many wrong codes in a row, engine.ts): a one-time
// code mailed to the user's verified addresses lifts it. It lifts the suspension only:
// methods, backup codes and the sliding failure window stay as they are. A mailbox is what
// email codes already trust, and each recovery buys at most another run of
// TWOFOLD_2FA_MAX_CONSECUTIVE_FAILURES guesses (SECURITY.md has the arithmetic).

// Its own hash domain, so a recovery code can never pass as an email second-factor code.
const recoveryHash = (deps: Pick<Deps, 'keys'>, userId: string, code: string) => deps.keys.hashCode(userId, `recovery:${code}`);

/** The email send limits, counted for every name asked for, known or not, so a refusal does not tell which exist. */
async function takeSend(
  deps: Pick<Deps, 'codeSendLimits' | 'limits' | 'settings' | 'clock'>, ctx: Pick<OperationContext, 'transport' | 'clientAddress'>,
  userId: string | undefined, typedName: string,
): Promise<void> {
  if (userId) return deps.codeSendLimits.takeCodeSend(userId, clientOf(ctx));
  const verdict = await deps.limits.take(codeSendKeys(deps.settings, loginKeyOf(undefined, typedName), ctx.clientAddress), deps.clock.now());
  if (!verdict.allowed) throw tooManyRequests(verdict);
}

export const recoverSecondFactorOperation = defineOperation({
  name: 'users.2fa.recover',
  summary: 'Lift a suspended second factor: without `code`, mails a recovery code to the user\'s verified addresses; with it, lifts the suspension (methods stay as they were). The same answer whether or not the user exists or is suspended.',
  auth: 'none',
  uses: ['users', 'twoFactorStore', 'codeSendLimits', 'limits', 'settings', 'clock', 'random', 'keys', 'mailer', 'audit'],
  secondFactor: { kind: 'none' },
  input: z.object({ emailOrUsername: s.emailOrUsername, code: z.string().min(1).max(32).optional() }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.2fa.recover', reply: () => ({ body: { success: true } }) },
  async handler(ctx, { emailOrUsername, code }): Promise<true> {
    const { deps } = ctx;
    const user = await deps.users.byEmailOrUsername(emailOrUsername);
    const now = deps.clock.now();
    if (code === undefined) {
      await takeSend(deps, ctx, user?.id, emailOrUsername);
      const addresses = user ? verifiedEmails(user) : [];
      if (!user || addresses.length === 0 || !await deps.twoFactorStore.isSuspended(user.id)) return true;
      const fresh = newSixDigitCode(deps.random);
      const expiresAt = now + deps.settings.emailCodeTtl * 1000;
      if (!await deps.twoFactorStore.setRecoveryCode(user.id, recoveryHash(deps, user.id, fresh), expiresAt)) return true;
      const minutes = Math.max(1, Math.round(deps.settings.emailCodeTtl / 60));
      await Promise.all(addresses.map((to) => deps.mailer.send(recoveryCodeMail(to, user.username, fresh, minutes))));
      await recordAudit(ctx, { event: 'code-sent', userId: user.id, method: 'email', details: { addresses: addresses.length, recovery: true } });
      return true;
    }
    const digits = normalizeEmailCode(code);
    const wanted = user && digits.length === 6 ? recoveryHash(deps, user.id, digits) : null;
    // Each try is counted before the comparison; TWOFOLD_EMAIL_CODE_MAX_ATTEMPTS wrong ones burn the code.
    const lifted = user !== null && await deps.twoFactorStore.tryRecoveryCode(user.id,
      (stored) => wanted !== null && constantTimeEqual(stored, wanted), now, deps.settings.emailCodeMaxAttempts);
    if (!lifted) {
      if (user) await recordAudit(ctx, { event: '2fa-failure', userId: user.id, method: 'email', details: { recovery: true } });
      throw new TwofoldError('error-invalid-recovery-code');
    }
    await recordAudit(ctx, { event: '2fa-recovered', userId: user.id, method: 'email', details: { by: 'email' } });
    return true;
  },
});
