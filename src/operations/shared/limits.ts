import type { AuditEvent, ClientInfo } from '../../core/audit.ts';
import { sha256Hex } from '../../core/secrets.ts';
import { codeSendKeys, loginBlocked, loginKeys, tooManyRequests, type RateKey, type RateVerdict } from '../../core/twofactor/limits.ts';
import { registerKeys, verifyMailKeys } from '../../core/account-limits.ts';
import type { Deps } from '../deps.ts';

/** What taking from a limit needs. */
export type LimitDeps = Pick<Deps, 'limits' | 'settings' | 'clock' | 'audit'>;

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
export async function beginLoginAttempt(deps: LimitDeps, loginKey: string, client: ClientInfo, userId: string | null): Promise<LoginAttempt> {
  const now = deps.clock.now();
  const keys = loginKeys(deps.settings, loginKey, client.address);
  await take(deps, keys, now, { event: 'login-blocked', userId, client }, loginBlocked);
  return {
    async succeeded() {
      for (const key of keys) {
        if (key.bucket === 'login-user') await deps.limits.reset(key.bucket, key.key);
        // An address keeps its other failures: one good login must not wipe a spray of guesses.
        else await deps.limits.release(key, now, deps.clock.now());
      }
    },
  };
}

/** Takes one from every key, or records `refused` (with the limit that said no) and throws. */
async function take(
  deps: LimitDeps, keys: RateKey[], now: number, refused: Omit<AuditEvent, 'details'>, error: (verdict: RateVerdict) => Error = tooManyRequests,
): Promise<void> {
  const verdict = await deps.limits.take(keys, now);
  if (verdict.allowed) return;
  await deps.audit({ ...refused, details: { limit: verdict.bucket, timeToReset: verdict.timeToReset } });
  throw error(verdict);
}

/**
 * Takes one sign-up (`register`) or one verification-link mail from `client` to `target`,
 * or throws 429 `error-too-many-requests` (nothing is created or mailed then).
 */
export async function takeAccountMail(deps: LimitDeps, kind: 'register' | 'verify-mail', target: string, client: ClientInfo, userId: string | null = null): Promise<void> {
  const keys = (kind === 'register' ? registerKeys : verifyMailKeys)(deps.settings, target, client.address);
  await take(deps, keys, deps.clock.now(), { event: 'rate-limited', userId, client });
}

/**
 * With TWOFOLD_MASK_UNKNOWN_USERS: one code send asked for by a stranger, counted against
 * the user when the name is known and against the name as typed when not, so both run out
 * after the same number of requests.
 */
export async function takeMaskedCodeSend(deps: LimitDeps, userId: string | null, typedName: string, client: ClientInfo): Promise<void> {
  const keys = codeSendKeys(deps.settings, loginKeyOf(userId ?? undefined, typedName), client.address);
  await take(deps, keys, deps.clock.now(), { event: 'rate-limited', userId, method: 'email', client });
}
