import { isBackupCodeShape, verifyBackupCode } from '../backup-codes.ts';
import { isTotpEnabled } from '../totp.ts';
import type { SecondFactorMethod } from './method.ts';
import { totpMethod } from './totp.ts';

/** One of the authenticator's backup codes, sent as a `totp` code of its own length (spec §3.7). */
export const backupCodeMethod: SecondFactorMethod = {
  name: 'backup-code',
  answers: 'totp',
  isEnabled: isTotpEnabled,
  accepts: isBackupCodeShape,
  // Never asked for by itself: the client is asked for the authenticator's code.
  challenge: (deps, user, available, send) => totpMethod.challenge(deps, user, available, send),
  verify: verifyBackupCode,
};
