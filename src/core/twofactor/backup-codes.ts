import type { User } from '../accounts.ts';
import { randomString, type Random } from '../random.ts';
import type { ServerKeys } from '../secrets.ts';
import type { TwoFactorDeps } from './types.ts';

// Codes people can type (issue 14 §6): 10 lowercase characters from 32 that cannot be
// mistaken for one another (no 0/o, 1/l), so 50 bits each, shown as `xxxxx-xxxxx`. Typed
// in any case, with or without the dash or spaces.
export const BACKUP_CODE_COUNT = 12;
export const BACKUP_CODE_LENGTH = 10;
export const BACKUP_CODE_GROUP = 5;
export const BACKUP_CODE_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

// The spec's earlier format (spec §3.7): 8 case-sensitive characters. Codes users already
// hold stay valid until used or regenerated, so that shape is still a backup code.
export const LEGACY_BACKUP_CODE_LENGTH = 8;

/** What a person may wrap a code in when copying it: spaces and dashes. */
const strip = (code: string) => code.replace(/[\s-]/g, '');

/**
 * A typed backup code in the form it was hashed in, or null when it cannot be one. New codes
 * are compared lowercase; legacy codes keep their case (they were hashed with it).
 */
export function normalizeBackupCode(code: string): string | null {
  if (code.length > 64) return null;
  const bare = strip(code);
  if (bare.length === BACKUP_CODE_LENGTH) return bare.toLowerCase();
  if (bare.length === LEGACY_BACKUP_CODE_LENGTH) return bare;
  return null;
}

/** Only ever checked as a backup code, never as a TOTP code (6 digits cannot match this). */
export const isBackupCodeShape = (code: string) => normalizeBackupCode(code) !== null;

export const formatBackupCode = (bare: string) => `${bare.slice(0, BACKUP_CODE_GROUP)}-${bare.slice(BACKUP_CODE_GROUP)}`;

/** Fresh codes as shown to the user (`xxxxx-xxxxx`). */
export function newBackupCodes(random: Random): string[] {
  return Array.from({ length: BACKUP_CODE_COUNT }, () => formatBackupCode(randomString(random, BACKUP_CODE_LENGTH, BACKUP_CODE_ALPHABET)));
}

/** The keyed hash of a code as shown or as typed: both give the same hash. */
export const hashBackupCode = (keys: ServerKeys, userId: string, code: string) =>
  keys.hashCode(userId, `backup:${normalizeBackupCode(code) ?? code}`);

export async function verifyBackupCode(deps: TwoFactorDeps, user: User, code: string): Promise<boolean> {
  if (!isBackupCodeShape(code)) return false;
  return deps.store.consumeBackupCode(user.id, hashBackupCode(deps.keys, user.id, code));
}
