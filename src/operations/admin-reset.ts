import { z } from 'zod';
import type { User } from '../core/accounts.ts';
import type { ClientInfo } from '../core/audit.ts';
import { TwofoldError } from '../core/errors.ts';
import type { Deps } from './deps.ts';
import { clientOf, recordAuditFor } from './shared/audit.ts';
import { revokeCredentials } from './shared/credentials.ts';
import { defineOperation } from './registry.ts';
import * as s from './schemas.ts';

// The way back for a user who lost their phone and their backup codes: an admin turns every
// second factor off. Every session and personal token goes too — each was vouched for by a
// factor that may now be in someone else's hands — and the user enrols again after logging
// in with the password.

export interface SecondFactorReset {
  totp: boolean;
  email: boolean;
  loginTokens: number;
  personalTokens: number;
  /** Passkeys and security keys removed. */
  passkeys: number;
}

const RESET_USES = ['users', 'twoFactorStore', 'passkeys', 'limits', 'tokens', 'devices', 'audit'] as const;

/** Shared by `POST /api/v1/users.2fa.reset` and `twofold user reset-2fa`. */
export async function resetSecondFactors(
  deps: Pick<Deps, (typeof RESET_USES)[number]>, target: User, by: { client: ClientInfo | undefined; resetBy: string },
): Promise<SecondFactorReset> {
  const totp = await deps.twoFactorStore.turnOffTotp(target.id);
  const email = target.email2faEnabled;
  if (email) await deps.users.update(target.id, { email2faEnabled: false });
  await deps.twoFactorStore.dropEmailCodes(target.id);
  const passkeys = await deps.passkeys.removeAll(target.id);
  // A lockout earned by whoever held the lost factor must not keep the owner out.
  await deps.twoFactorStore.clearFailures(target.id);
  await deps.limits.reset('login-user', target.id);
  // Every session and token, and the remembered devices: each would let whoever holds it in
  // without the factor being reset (the admin's own session too, when they reset themself).
  const { loginTokens, personalTokens } = await revokeCredentials(deps, target.id);
  await recordAuditFor(deps, by.client, {
    event: '2fa-reset', userId: target.id,
    details: { resetBy: by.resetBy, totp, email, loginTokens, personalTokens, passkeys },
  });
  return { totp, email, loginTokens, personalTokens, passkeys };
}

export const resetSecondFactorsOperation = defineOperation({
  name: 'users.2fa.reset',
  summary: 'Admin: turn off all of a user\'s second factors (authenticator app, backup codes, email codes, passkeys), clear their failure counts and revoke their sessions and personal tokens. Always asks.',
  auth: 'admin',
  uses: RESET_USES,
  secondFactor: { kind: 'always', passwordAlways: true },
  input: z.object({ userId: s.id.optional(), username: s.username.optional() }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.2fa.reset' },
  async handler(ctx, { userId, username }): Promise<SecondFactorReset & { userId: string }> {
    if (userId === undefined && username === undefined) {
      throw new TwofoldError('error-parameter-required', { param: 'userId' }, 'userId or username is required');
    }
    const target = userId !== undefined ? await ctx.deps.users.byId(userId) : await ctx.deps.users.byUsername(username!);
    if (!target) throw new TwofoldError(userId !== undefined ? 'error-invalid-user-id' : 'error-invalid-user');
    const result = await resetSecondFactors(ctx.deps, target, { client: clientOf(ctx), resetBy: ctx.user.id });
    return { userId: target.id, ...result };
  },
});
