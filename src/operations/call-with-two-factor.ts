import { z } from 'zod';
import { codeFromNumber } from '../core/twofactor/answer.ts';
import { MAX_WEBAUTHN_ANSWER_LENGTH } from '../core/twofactor/methods/webauthn.ts';
import { METHOD_NAMES } from '../core/twofactor/types.ts';

/**
 * The seeds' `callWithTwoFactorRequired({code, ddpMethod, method, params})`: not an operation
 * but an envelope around one. The DDP transport unwraps it (src/transport/ddp/dispatch.ts)
 * and invokes the target once, its second factor forced to `always` with this code (even
 * where the target would not ask, and never skipped for a remembered success). Declared
 * here so the API docs describe it next to the operations.
 */
export const callWithTwoFactorEnvelope = {
  ddpName: 'callWithTwoFactorRequired',
  summary: 'DDP: run a method after checking a second-factor code for it.',
  auth: 'user',
  /** The code when the connection has no login. */
  authError: 'error-invalid-user',
  input: z.object({
    // Up to a passkey assertion's length; parseAnswer holds other methods to the usual bound.
    code: z.preprocess(codeFromNumber, z.string().max(MAX_WEBAUTHN_ANSWER_LENGTH)),
    ddpMethod: z.string().min(1).max(128),
    method: z.enum(METHOD_NAMES),
    params: z.array(z.unknown()).max(32),
  }).strict(),
} as const;

// Methods that must never be reached through the wrapper: it would let a second factor
// stand in for a password, or nest the wrapper in itself.
export const NOT_WRAPPABLE: ReadonlySet<string> = new Set(['login', callWithTwoFactorEnvelope.ddpName]);
