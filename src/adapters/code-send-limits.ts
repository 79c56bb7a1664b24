import type { AuditEvent } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import { codeSendKeys, tooManyRequests, type LimitSettings } from '../core/twofactor/limits.ts';
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
