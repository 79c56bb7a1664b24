import type { App } from '../../app.ts';
import type { ClientInfo } from '../../core/audit.ts';
import { sha256Hex } from '../../core/secrets.ts';
import { codeSendKeys, loginBlocked, loginKeys, tooManyRequests } from '../../core/twofactor/limits.ts';
import { registerKeys, verifyMailKeys } from '../../core/account-limits.ts';

/**
 * The limit key of a login name: the user's id when the name is known (every way of naming
 * them shares one budget), else a hash of the name as typed (people sometimes type a
 * password into the name field; it is not stored in clear).
 */
export const loginKeyOf = (userId: string | undefined, typedName: string) => userId ?? `name:${sha256Hex(typedName.toLowerCase())}`;

export interface LoginAttempt {
  /** The password was right: the name's failures are forgotten and this attempt is taken back. */
  succeeded(): Promise<void>;
}

/**
 * Counts a password attempt before the password is checked, so that concurrent guesses
 * cannot slip past the limit; refuses with Rocket.Chat's `error-login-blocked-for-ip` /
 * `-for-user` when the address or the name has too many recent failures.
 */
export async function beginLoginAttempt(app: App, loginKey: string, client: ClientInfo, userId: string | null): Promise<LoginAttempt> {
  const now = app.clock.now();
  const keys = loginKeys(app.settings, loginKey, client.address);
  const verdict = await app.store.limits.take(keys, now);
  if (!verdict.allowed) {
    await app.twoFactor.audit?.({ event: 'login-blocked', userId, client, details: { limit: verdict.bucket, timeToReset: verdict.timeToReset } });
    throw loginBlocked(verdict);
  }
  return {
    async succeeded() {
      for (const key of keys) {
        if (key.bucket === 'login-user') await app.store.limits.reset(key.bucket, key.key);
        // An address keeps its other failures: one good login must not wipe a spray of guesses.
        else await app.store.limits.release(key, now, app.clock.now());
      }
    },
  };
}

/**
 * Takes one sign-up (`register`) or one verification-link mail from `client` to `target`,
 * or throws 429 `error-too-many-requests` (nothing is created or mailed then).
 */
export async function takeAccountMail(app: App, kind: 'register' | 'verify-mail', target: string, client: ClientInfo, userId: string | null = null): Promise<void> {
  const keys = (kind === 'register' ? registerKeys : verifyMailKeys)(app.settings, target, client.address);
  const verdict = await app.store.limits.take(keys, app.clock.now());
  if (verdict.allowed) return;
  await app.twoFactor.audit?.({ event: 'rate-limited', userId, client, details: { limit: verdict.bucket, timeToReset: verdict.timeToReset } });
  throw tooManyRequests(verdict);
}

/**
 * With TWOFOLD_MASK_UNKNOWN_USERS: one code send asked for by a stranger, counted against
 * the user when the name is known and against the name as typed when not, so both run out
 * after the same number of requests.
 */
export async function takeMaskedCodeSend(app: App, userId: string | null, typedName: string, client: ClientInfo): Promise<void> {
  const keys = codeSendKeys(app.settings, loginKeyOf(userId ?? undefined, typedName), client.address);
  const verdict = await app.store.limits.take(keys, app.clock.now());
  if (verdict.allowed) return;
  await app.twoFactor.audit?.({ event: 'rate-limited', userId, method: 'email', client, details: { limit: verdict.bucket, timeToReset: verdict.timeToReset } });
  throw tooManyRequests(verdict);
}
