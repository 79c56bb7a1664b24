import type { Deps } from '../deps.ts';
import type { OperationContext } from '../registry.ts';

/** What a revocation removed, for the audit trail and the admin's answer. */
export interface Revoked {
  loginTokens: number;
  personalTokens: number;
  devices: number;
}

/**
 * After a change to how a user proves who they are (password, second-factor methods,
 * deactivation, an admin reset), every credential obtained under the old state goes:
 * logins and personal access tokens, bypassTwoFactor ones included, and remembered devices. When the user made
 * the change themself, the login session they made it from stays (a personal access token
 * used for it does not).
 */
export async function revokeCredentials(
  deps: Pick<Deps, 'tokens' | 'devices'>, userId: string, ctx?: Pick<OperationContext, 'user' | 'token'>,
): Promise<Revoked> {
  const own = ctx?.user?.id === userId && ctx.token?.kind === 'login' ? ctx.token.tokenHash : undefined;
  const loginTokens = await deps.tokens.removeLoginTokensOfUser(userId, own);
  // What is left but that one login: the personal access tokens (counted apart for the audit).
  const personalTokens = await deps.tokens.revokeAllOfUser(userId, own);
  // A remembered device stood in for the second factor of the old state: it goes too, the one
  // the change was made from included (it signs in with a code again, then may be remembered).
  const devices = await deps.devices.removeAllOfUser(userId);
  return { loginTokens, personalTokens, devices };
}
