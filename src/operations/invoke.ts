import type { z } from 'zod';
import { isAdmin } from '../core/accounts.ts';
import { TwofoldError } from '../core/errors.ts';
import { sha256Hex } from '../core/secrets.ts';
import { checkSecondFactor, selectMethod } from '../core/twofactor/engine.ts';
import { mustEnrolFirst, noteSessionUse } from './my-security.ts';
import type { Operation, OperationContext, OperationSecondFactor, Transport } from './registry.ts';

/** Same token from another browser or address must not inherit a remembered success. */
export const clientFingerprint = (ctx: Pick<OperationContext, 'userAgent' | 'clientAddress'>) =>
  sha256Hex(`${ctx.clientAddress}\0${ctx.userAgent}`);

export function policyOf<I>(op: Operation<I>, ctx: OperationContext, input: I): OperationSecondFactor {
  return typeof op.twoFactor === 'function' ? op.twoFactor(ctx.app, input) : op.twoFactor;
}

/** Turns schema failures into the protocol's codes: a missing field is `error-parameter-required`. */
export function inputError(issues: z.core.$ZodIssue[], raw?: unknown, transport?: Transport): TwofoldError {
  const first = issues[0];
  const path = first?.path.map(String).join('.') || 'input';
  const shown = issues.slice(0, 5).map((i) => ({ path: i.path.map(String).join('.'), problem: i.message }));
  // An enum's issue does not say the value was missing; the input does.
  const absentEnum = first?.code === 'invalid_value' && first.path.length > 0 && valueAt(raw, first.path) === undefined;
  if ((first?.code === 'invalid_type' && /received undefined/.test(first.message)) || absentEnum) {
    return new TwofoldError('error-parameter-required', { param: path, issues: shown }, `${path} is required`);
  }
  // A field the operation does not know: on REST refused as Rocket.Chat's JSON schemas refuse it.
  if (first?.code === 'unrecognized_keys' && transport === 'rest') return new TwofoldError('invalid-params', { issues: shown });
  return new TwofoldError('error-invalid-params', { issues: shown }, `Invalid parameter ${path}: ${first?.message ?? 'invalid'}`);
}

const valueAt = (v: unknown, path: PropertyKey[]) =>
  path.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[k] : undefined), v);

export function parseInput<I>(op: Operation<I>, raw: unknown, transport?: Transport): I {
  const parsed = op.input.safeParse(raw);
  if (!parsed.success) throw inputError(parsed.error.issues, raw, transport);
  return parsed.data;
}

/**
 * Rocket.Chat turns `currentPassword` into a password second factor (`typedPassword`). Here it
 * answers only when the transport carried no code and the password fallback is the method
 * that applies; a user with an app or email codes is asked for those instead.
 */
function withSecondFactorFromInput<I>(op: Operation<I>, ctx: OperationContext, input: I): OperationContext {
  if (!op.secondFactorFromInput || !ctx.user || (ctx.twoFactor.code ?? '') !== '') return ctx;
  const carried = op.secondFactorFromInput(input);
  if (!carried) return ctx;
  const { method } = selectMethod(ctx.user, { method: carried.method, purpose: 'call', requireSecondFactor: op.requireSecondFactor }, ctx.app.twoFactor.settings);
  return method === carried.method ? { ...ctx, twoFactor: carried } : ctx;
}

export interface InvokeOptions {
  /**
   * callWithTwoFactorRequired: the code it carries is always checked, even where the operation
   * would not ask, and a remembered success neither skips the check nor comes from it (as in
   * Rocket.Chat, whose wrapper checks without the connection).
   */
  forceSecondFactor?: boolean;
}

/** The one path every call takes: login rule, input schema, second factor, handler. */
export async function invoke<I, O>(op: Operation<I, O>, ctx: OperationContext, raw: unknown, opts: InvokeOptions = {}): Promise<O> {
  if ((op.auth === 'user' || op.auth === 'admin') && !ctx.user) {
    // Whatever the code, a missing login is HTTP 401 on REST.
    throw new TwofoldError(op.authError ?? 'not-authorized').withStatus(401);
  }
  if (op.auth === 'admin' && !isAdmin(ctx.user!)) throw op.permissionError?.(ctx.transport) ?? new TwofoldError('error-not-allowed');
  noteSessionUse(ctx);
  if (ctx.user && !op.allowedBeforeEnrolment && mustEnrolFirst(ctx.user, ctx.app.settings)) throw new TwofoldError('error-2fa-enrolment-required');
  const input = parseInput(op, raw, ctx.transport);
  await op.precondition?.(ctx, input);
  ctx = withSecondFactorFromInput(op, ctx, input);

  let policy = policyOf(op, ctx, input);
  if (opts.forceSecondFactor) policy = 'always';
  if (policy === 'ask' || policy === 'always') {
    if (!ctx.user) throw new TwofoldError('error-invalid-user');
    // Rocket.Chat lets a personal access token created with bypassTwoFactor skip the check.
    // Not here for the operations that always ask (and callWithTwoFactorRequired, which
    // makes its target always ask): a stolen token must not change the account's security.
    if (!ctx.token?.bypass2fa || policy === 'always') {
      await checkSecondFactor(ctx.app.twoFactor, {
        user: ctx.user,
        policy,
        purpose: 'call',
        code: ctx.twoFactor.code,
        method: ctx.twoFactor.method,
        token: ctx.token,
        fingerprint: clientFingerprint(ctx),
        client: { transport: ctx.transport, address: ctx.clientAddress },
        requireSecondFactor: op.requireSecondFactor,
      });
    }
  }
  return op.handler(ctx, input);
}
