import type { App } from '../../app.ts';
import type { OperationContext } from '../registry.ts';

/**
 * After a change to how a user proves who they are (password, second-factor methods,
 * deactivation, an admin reset), every credential obtained under the old state goes:
 * logins and personal access tokens, bypassTwoFactor ones included, and remembered devices. When the user made
 * the change themself, the login session they made it from stays (a personal access token
 * used for it does not).
 */
export async function revokeCredentials(app: App, userId: string, ctx?: Pick<OperationContext, 'user' | 'token'>): Promise<void> {
  const own = ctx?.user?.id === userId && ctx.token?.kind === 'login' ? ctx.token.tokenHash : undefined;
  await app.store.tokens.revokeAllOfUser(userId, own);
  // A remembered device stood in for the second factor of the old state: it goes too, the one
  // the change was made from included (it signs in with a code again, then may be remembered).
  await app.store.devices.removeAllOfUser(userId);
}
