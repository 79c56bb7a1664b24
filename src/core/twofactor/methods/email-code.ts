import { isEmailEnabled, prepareEmailChallenge, verifyEmailCode } from '../email-codes.ts';
import type { SecondFactorMethod } from './method.ts';

/** A six-digit code mailed to the user's verified addresses. */
export const emailCodeMethod: SecondFactorMethod = {
  name: 'email',
  answers: 'email',
  isEnabled: isEmailEnabled,
  accepts: () => true,
  async challenge(deps, user, available, send) {
    const { emailOrUsername, destinations, ...email } = await prepareEmailChallenge(deps, user, send && isEmailEnabled(user, deps.settings));
    // In the seeds' key order (method, codeGenerated, codeCount, codeExpires, availableMethods),
    // then Twofold's own destinations last, which Rocket.Chat clients ignore.
    return { method: 'email', ...email, availableMethods: available, emailOrUsername, destinations };
  },
  verify: verifyEmailCode,
};
