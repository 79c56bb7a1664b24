import { createHmac } from 'node:crypto';
import { Secret, URI, TOTP } from 'otpauth';
import type { User } from '../accounts.ts';
import type { Random } from '../random.ts';
import { constantTimeEqual } from '../secrets.ts';
import { emitEvent } from './events.ts';
import type { TwoFactorDeps, TwoFactorSettings } from './types.ts';

// RFC 6238 defaults, the only ones common authenticator apps all support.
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
const SECRET_BYTES = 20; // 160 bits, RFC 4226 §4 R6

export const isTotpEnabled = (user: User, s: TwoFactorSettings) => s.totpEnabled && user.totpEnabled && user.totpSecret !== null;

export const totpStep = (nowMs: number) => Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);

type HotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

/** HOTP value for a counter (RFC 4226 §5.3); TOTP is HOTP of the time step. */
export function hotp(secretBase32: string, counter: number, digits = TOTP_DIGITS, algorithm: HotpAlgorithm = 'SHA1'): string {
  return hotpOfKey(Buffer.from(Secret.fromBase32(secretBase32).bytes), counter, digits, algorithm);
}

// The key is decoded once per check, not once per step compared: a check compares up to
// 2·maxDelta+1 steps, and decoding base32 into a new object each time was a tenth of a check.
function hotpOfKey(key: Buffer, counter: number, digits: number, algorithm: HotpAlgorithm): string {
  const message = Buffer.alloc(8);
  message.writeUInt32BE(Math.floor(counter / 2 ** 32), 0);
  message.writeUInt32BE(counter >>> 0, 4);
  const mac = createHmac(algorithm.toLowerCase(), key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const truncated = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(truncated % 10 ** digits).padStart(digits, '0');
}

export const newTotpSecret = (random: Random) => new Secret({ buffer: new Uint8Array(random.bytes(SECRET_BYTES)).buffer }).base32;

export function otpauthUrl(secretBase32: string, username: string, issuer: string): string {
  return URI.stringify(new TOTP({ issuer, label: username, secret: Secret.fromBase32(secretBase32), digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, algorithm: 'SHA1' }));
}

/**
 * The time step a 6-digit code belongs to within ±maxDelta steps of now, or null.
 * Every candidate is computed so the time taken does not depend on which one matched.
 */
export function matchTotpStep(secretBase32: string, code: string, nowMs: number, maxDelta: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const current = totpStep(nowMs);
  const key = Buffer.from(Secret.fromBase32(secretBase32).bytes);
  let found: number | null = null;
  for (let delta = -maxDelta; delta <= maxDelta; delta++) {
    if (constantTimeEqual(hotpOfKey(key, current + delta, TOTP_DIGITS, 'SHA1'), code) && found === null) found = current + delta;
  }
  return found;
}

/** Checks a code against a sealed secret and accepts its time step at most once per user. */
export async function verifyTotpCode(deps: TwoFactorDeps, user: User, sealedSecret: string, code: string): Promise<boolean> {
  const step = matchTotpStep(deps.keys.decrypt(sealedSecret), code, deps.clock.now(), deps.settings.totpMaxDelta);
  if (step === null) return false;
  const accepted = await deps.store.acceptTotpStep(user.id, step);
  // A right code for a step already used: someone else may have seen it (RFC 6238 §5.2).
  if (!accepted) await emitEvent(deps, { event: 'totp-replay', userId: user.id, method: 'totp', details: { step } });
  return accepted;
}
