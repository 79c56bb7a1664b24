import { z } from 'zod';
import { TwofoldError } from '../core/errors.ts';
import { invoke } from './invoke.ts';
import { defineOperation, type Operation, type Registry } from './registry.ts';
import * as s from './schemas.ts';

// Methods that must never be reached through the wrapper: it would let a second factor
// stand in for a password, or nest the wrapper in itself.
const NOT_DISPATCHABLE = new Set(['login', 'callWithTwoFactorRequired']);

/** Maps positional DDP params onto an operation's input, as its binding says. */
export function ddpInput(op: Operation, params: unknown[]): unknown {
  if (op.ddp?.params) return op.ddp.params(params);
  // Methods without a mapping take at most one parameter; more is a mistake worth reporting.
  if (params.length > 1) throw new TwofoldError('error-invalid-params', { received: params.length }, `Expected at most 1 parameter, got ${params.length}`);
  return params[0];
}

/**
 * The seeds' `callWithTwoFactorRequired({code, ddpMethod, method, params})`: the code is
 * checked for the target (even where the target would not ask, and never skipped for a
 * remembered success), then the target runs with `params`.
 */
export function callWithTwoFactorOperation(registry: Registry) {
  return defineOperation({
    name: 'callWithTwoFactorRequired',
    allowedBeforeEnrolment: true, // the wrapped call is checked on its own
    summary: 'DDP: run a method after checking a second-factor code for it.',
    auth: 'user',
    authError: 'error-invalid-user',
    twoFactor: 'none',
    input: z.object({
      code: s.code,
      ddpMethod: z.string().min(1).max(128),
      method: z.enum(['email', 'totp', 'password']),
      params: z.array(z.unknown()).max(32),
    }).strict(),
    ddp: { name: 'callWithTwoFactorRequired' },
    async handler(ctx, input): Promise<unknown> {
      const target = NOT_DISPATCHABLE.has(input.ddpMethod) ? undefined : registry.ddpMethod(input.ddpMethod);
      if (!target) throw new TwofoldError('error-method-not-found', { method: input.ddpMethod }, `Method '${input.ddpMethod}' not found`);
      const inner = { ...ctx, twoFactor: { code: input.code, method: input.method } };
      const result = await invoke(target, inner, ddpInput(target, input.params), { forceSecondFactor: true });
      return target.ddp?.reply ? target.ddp.reply(result) : result;
    },
  });
}
