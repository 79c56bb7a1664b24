import { z } from 'zod';
import type { App } from '../app.ts';
import type { User } from '../core/accounts.ts';
import type { ClientInfo } from '../core/audit.ts';
import { TwofoldError } from '../core/errors.ts';
import { clientOf, recordAuditFor } from './shared/audit.ts';
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

/** Shared by `POST /api/v1/users.2fa.reset` and `twofold user reset-2fa`. */
export async function resetSecondFactors(
  app: App, target: User, by: { client: ClientInfo | undefined; resetBy: string },
): Promise<SecondFactorReset> {
  const { store } = app;
  const totp = await store.twoFactor.turnOffTotp(target.id);
  const email = target.email2faEnabled;
  if (email) await store.users.update(target.id, { email2faEnabled: false });
  await store.twoFactor.dropEmailCodes(target.id);
  const passkeys = await store.webauthn.removeAll(target.id);
  // A lockout earned by whoever held the lost factor must not keep the owner out.
  await store.twoFactor.clearFailures(target.id);
  await store.limits.reset('login-user', target.id);
  const loginTokens = await store.tokens.removeLoginTokensOfUser(target.id);
  // A remembered device would let whoever holds it sign in without the factor being reset.
  await store.devices.removeAllOfUser(target.id);
  let personalTokens = 0;
  for (const t of await store.tokens.personalTokens(target.id)) {
    if (t.name !== null && await store.tokens.removePersonalToken(target.id, t.name)) personalTokens++;
  }
  await recordAuditFor(app, by.client, {
    event: '2fa-reset', userId: target.id,
    details: { resetBy: by.resetBy, totp, email, loginTokens, personalTokens, passkeys },
  });
  return { totp, email, loginTokens, personalTokens, passkeys };
}

export const resetSecondFactorsOperation = defineOperation({
  name: 'users.2fa.reset',
  summary: 'Admin: turn off all of a user\'s second factors (authenticator app, backup codes, email codes, passkeys), clear their failure counts and revoke their sessions and personal tokens. Always asks.',
  auth: 'admin',
  secondFactor: { kind: 'always', passwordAlways: true },
  input: z.object({ userId: s.id.optional(), username: s.username.optional() }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.2fa.reset' },
  async handler(ctx, { userId, username }): Promise<SecondFactorReset & { userId: string }> {
    const { app } = ctx;
    if (userId === undefined && username === undefined) {
      throw new TwofoldError('error-parameter-required', { param: 'userId' }, 'userId or username is required');
    }
    const target = userId !== undefined ? await app.store.users.byId(userId) : await app.store.users.byUsername(username!);
    if (!target) throw new TwofoldError(userId !== undefined ? 'error-invalid-user-id' : 'error-invalid-user');
    const result = await resetSecondFactors(app, target, { client: clientOf(ctx), resetBy: ctx.user.id });
    return { userId: target.id, ...result };
  },
});
