import { verifyPasswordCode } from '../password-fallback.ts';
import { plainChallenge, type SecondFactorMethod } from './method.ts';

/**
 * The password as a second factor (SHA-256 hex of it): only a fallback for a user with no
 * other method, on a call (never at login), when the setting or the operation allows it.
 */
export const passwordMethod: SecondFactorMethod = {
  name: 'password',
  answers: 'password',
  isEnabled: (user) => user.passwordHash !== null,
  accepts: () => true,
  challenge: async (_deps, _user, available) => plainChallenge('password', available),
  verify: verifyPasswordCode,
  slow: true,
};
