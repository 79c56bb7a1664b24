// The one retry loop both transports share: run the call; when the server answers with a
// challenge, ask the hook for a code and run it again with that code. Only the way a code
// travels differs per transport, so that is the `run` callback's business.
import { isChallenge, TwoFactorRequiredError } from './errors.ts';
import type { ChallengeAnswer, ChallengeDetails, ChallengeOptions, SecondFactorMethod, Transport } from './types.ts';

/** What a call is retried with: a code (absent: ask the server for `method`'s challenge). */
export interface Answer {
  code?: string | undefined;
  method: SecondFactorMethod;
  rememberDevice?: boolean | undefined;
}

export const DEFAULT_MAX_ATTEMPTS = 3;

/** Method switches (replies without a code) one call may make: a hook flipping between methods must end. */
const MAX_SWITCHES = 5;

/** The hook's reply as the transports send it; null when the hook gave up. */
export function toAnswer(reply: ChallengeAnswer, method: SecondFactorMethod): Answer | null {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'string') return { code: reply, method };
  const answer: Answer = { method: reply.method ?? method };
  if (typeof reply.code === 'string') answer.code = reply.code;
  if (reply.rememberDevice) answer.rememberDevice = true;
  return answer;
}

export async function withChallenges<T>(
  options: ChallengeOptions,
  where: { transport: Transport; call: string },
  run: (answer: Answer | undefined) => Promise<T>,
  /** An answer the caller already has: sent with the first try. */
  first?: Answer,
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  let answer = first;
  // Codes sent so far (a reply without a code only switches method, so it is not one).
  let supplied = first?.code !== undefined ? 1 : 0;
  let switches = 0;
  for (;;) {
    try {
      return await run(answer);
    } catch (e) {
      if (!isChallenge(e)) throw e;
      if (!options.onChallenge) throw new TwoFactorRequiredError(e, supplied, false);
      // Bounded so that a hook that keeps guessing cannot burn the user's failure budget
      // on the server (spec §3.6) in one call.
      if (supplied >= maxAttempts || switches > MAX_SWITCHES) throw new TwoFactorRequiredError(e, supplied, true);
      const details = e.details as ChallengeDetails;
      const reply = await options.onChallenge({
        method: details.method, details, attempt: supplied + 1, transport: where.transport,
        error: e.code as 'totp-required' | 'totp-invalid', call: where.call,
      });
      const next = toAnswer(reply, details.method);
      if (!next) throw new TwoFactorRequiredError(e, supplied, false);
      if (next.code === undefined) switches++;
      else supplied++;
      answer = next;
    }
  }
}
