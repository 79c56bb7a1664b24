// The one retry loop both transports share: run the call; when the server answers with a
// challenge, ask the hook for a code and run it again with that code. Only the way a code
// travels differs per transport, so that is the `run` callback's business.
import { isChallenge, TwoFactorRequiredError } from './errors.ts';
import type { ChallengeDetails, ChallengeOptions, SecondFactorMethod, Transport } from './types.ts';

export interface Answer {
  code: string;
  method: SecondFactorMethod;
}

export const DEFAULT_MAX_ATTEMPTS = 3;

export async function withChallenges<T>(
  options: ChallengeOptions,
  where: { transport: Transport; call: string },
  run: (answer: Answer | undefined) => Promise<T>,
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  let answer: Answer | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(answer);
    } catch (e) {
      if (!isChallenge(e)) throw e;
      const supplied = attempt - 1;
      if (!options.onChallenge) throw new TwoFactorRequiredError(e, supplied, false);
      // Bounded so that a hook that keeps guessing cannot burn the user's failure budget
      // on the server (spec §3.6) in one call.
      if (supplied >= maxAttempts) throw new TwoFactorRequiredError(e, supplied, true);
      const details = e.details as ChallengeDetails;
      const reply = await options.onChallenge({
        method: details.method, details, attempt, transport: where.transport,
        error: e.code as 'totp-required' | 'totp-invalid', call: where.call,
      });
      if (reply === null || reply === undefined) throw new TwoFactorRequiredError(e, supplied, false);
      answer = typeof reply === 'string'
        ? { code: reply, method: details.method }
        : { code: reply.code, method: reply.method ?? details.method };
    }
  }
}
