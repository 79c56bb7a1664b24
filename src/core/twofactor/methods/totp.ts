import { isTotpEnabled, verifyTotpCode } from '../totp.ts';
import { plainChallenge, type SecondFactorMethod } from './method.ts';

/** A code from the authenticator app (RFC 6238), each time step accepted once. */
export const totpMethod: SecondFactorMethod = {
  name: 'totp',
  answers: 'totp',
  isEnabled: isTotpEnabled,
  accepts: () => true,
  challenge: async (_deps, _user, available) => plainChallenge('totp', available),
  verify: (deps, user, code) => verifyTotpCode(deps, user, user.totpSecret!, code),
};
