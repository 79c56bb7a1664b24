import type { MethodName } from '../types.ts';
import { backupCodeMethod } from './backup-code.ts';
import { emailCodeMethod } from './email-code.ts';
import type { SecondFactorMethod } from './method.ts';
import { passwordMethod } from './password.ts';
import { totpMethod } from './totp.ts';
import { webauthnMethod } from './webauthn.ts';

export type { ChallengeDetails, SecondFactorMethod } from './method.ts';

/** Every method; a code goes to the first that answers to its name and accepts it. */
export const METHODS: readonly SecondFactorMethod[] = [backupCodeMethod, totpMethod, emailCodeMethod, passwordMethod, webauthnMethod];

/**
 * The methods a user is offered, in the order they are preferred (spec §3.1). Passkeys come
 * last: a Rocket.Chat client that knows only TOTP and email is asked for one of those when the
 * user has it.
 */
export const OFFERED_METHODS: readonly SecondFactorMethod[] = [totpMethod, emailCodeMethod, webauthnMethod];

export type OfferedMethod = 'totp' | 'email' | 'webauthn';

/** The module that checks `code` sent under the protocol's `name`. */
export function methodFor(name: MethodName, code: string): SecondFactorMethod {
  return METHODS.find((m) => m.answers === name && m.accepts(code))!;
}
