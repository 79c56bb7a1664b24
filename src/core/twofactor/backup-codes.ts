import type { User } from '../accounts.ts';
import { randomString, type Random } from '../random.ts';
import type { ServerKeys } from '../secrets.ts';
import type { TwoFactorDeps } from './types.ts';

// Spec §3.7: 12 codes of 8 characters from an alphabet without look-alike characters.
export const BACKUP_CODE_COUNT = 12;
export const BACKUP_CODE_LENGTH = 8;
export const BACKUP_CODE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz';

export const isBackupCodeShape = (code: string) => code.length === BACKUP_CODE_LENGTH;

export function newBackupCodes(random: Random): string[] {
  return Array.from({ length: BACKUP_CODE_COUNT }, () => randomString(random, BACKUP_CODE_LENGTH, BACKUP_CODE_ALPHABET));
}

export const hashBackupCode = (keys: ServerKeys, userId: string, code: string) => keys.hashCode(userId, `backup:${code}`);

export async function verifyBackupCode(deps: TwoFactorDeps, user: User, code: string): Promise<boolean> {
  if (!isBackupCodeShape(code)) return false;
  return deps.store.consumeBackupCode(user.id, hashBackupCode(deps.keys, user.id, code));
}
