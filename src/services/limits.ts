import type { App } from '../app.ts';
import type { AuditEvent, ClientInfo } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import { sha256Hex } from '../core/secrets.ts';
import { codeSendKeys, loginBlocked, loginKeys, tooManyRequests, type LimitSettings } from '../core/twofactor/limits.ts';
import type { TwoFactorLimits } from '../core/twofactor/types.ts';
import type { RateLimitStore } from '../store/limits.ts';

/** The send limits of spec §3.6 over the shared limit rows. */
export function codeSendLimits(
  store: RateLimitStore, settings: LimitSettings, clock: Clock, audit: (e: AuditEvent) => Promise<void>,
): TwoFactorLimits {
  return {
    async takeCodeSend(userId, client, automatic) {
      const verdict = await store.take(codeSendKeys(settings, userId, client?.address, automatic), clock.now());
      if (verdict.allowed) return;
      await audit({ event: 'rate-limited', userId, method: 'email', client, details: { limit: verdict.bucket, timeToReset: verdict.timeToReset } });
      throw tooManyRequests(verdict);
    },
  };
}

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
