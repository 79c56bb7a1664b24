import type { User } from '../accounts.ts';
import { SHA256_HEX } from '../accounts.ts';
import type { TwoFactorDeps } from './types.ts';

/** The password as a second factor: the code is the SHA-256 hex of the password, either case. */
export async function verifyPasswordCode(deps: TwoFactorDeps, user: User, code: string): Promise<boolean> {
  if (!user.passwordHash || !SHA256_HEX.test(code)) return false;
  return deps.verifyPassword(user.passwordHash, code.toLowerCase());
}
