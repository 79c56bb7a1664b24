// Limits on the mails anyone can make Twofold send besides codes: sign-ups and
// verification links. Counted per client address (a flood from one place) and per target
// email address (a flood at one inbox, from anywhere), in the same rows as the code limits.

import { sha256Hex } from './secrets.ts';
import type { RateKey, RateRule } from './twofactor/limits.ts';

export interface AccountLimitSettings {
  registerAddressPerHour: number;
  verifyMailAddressPerHour: number;
  verifyMailTargetInterval: number;
  verifyMailTargetPerHour: number;
}

const HOUR = 3600;

/** The inbox's key: any spelling of one address shares a budget, kept as a hash, not in clear. */
export const mailTargetKey = (address: string) => sha256Hex(address.toLowerCase());

/** One verification-link mail to `target`, asked from `clientAddress`. */
export function verifyMailKeys(s: AccountLimitSettings, target: string, clientAddress: string | undefined): RateKey[] {
  const keys: RateKey[] = [];
  if (clientAddress) keys.push({ bucket: 'verify-mail-address', key: clientAddress, rules: [{ limit: s.verifyMailAddressPerHour, windowSeconds: HOUR }] });
  const targetRules: RateRule[] = [{ limit: s.verifyMailTargetPerHour, windowSeconds: HOUR }];
  if (s.verifyMailTargetInterval > 0) targetRules.unshift({ limit: 1, windowSeconds: s.verifyMailTargetInterval });
  keys.push({ bucket: 'verify-mail-target', key: mailTargetKey(target), rules: targetRules });
  return keys;
}

/**
 * One sign-up: a registration from the address plus the mail it sends. Counted before the
 * name is looked at, so refused sign-ups ("in use") cost the same as accepted ones.
 */
export function registerKeys(s: AccountLimitSettings, target: string, clientAddress: string | undefined): RateKey[] {
  const keys: RateKey[] = [];
  if (clientAddress) keys.push({ bucket: 'register-address', key: clientAddress, rules: [{ limit: s.registerAddressPerHour, windowSeconds: HOUR }] });
  return [...keys, ...verifyMailKeys(s, target, clientAddress)];
}
