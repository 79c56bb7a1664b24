// One DDP method call, from name and positional params to the `result` message: the socket
// (raw or SockJS-framed) and DDP over REST (`method.call`) all come through here, so the
// trailing second-factor param, callWithTwoFactorRequired's envelope, the registry lookup and
// the Meteor error rendering are one rule.

import type { App } from '../../app.ts';
import { TwofoldError } from '../../core/errors.ts';
import { meteorError, meteorErrorOf } from './errors.ts';
import { parseAnswer, type SecondFactorAnswer } from '../../core/twofactor/answer.ts';
import { callWithTwoFactorEnvelope, NOT_WRAPPABLE } from '../../operations/call-with-two-factor.ts';
import { inputError, invoke } from '../../operations/invoke.ts';
import type { Operation, OperationContext, Registry } from '../../operations/registry.ts';

/** The trailing `{twoFactorCode, twoFactorMethod}` that Rocket.Chat clients append to a call. */
export function splitTwoFactorParam(params: unknown[]): { params: unknown[]; answer: SecondFactorAnswer } {
  const last = params[params.length - 1];
  if (last === null || typeof last !== 'object' || Array.isArray(last) || !('twoFactorCode' in last)) return { params, answer: {} };
  const { twoFactorCode, twoFactorMethod } = last as { twoFactorCode: unknown; twoFactorMethod?: unknown };
  // A key that is there must hold a code (EJSON has no undefined, but an object built in-process may).
  const answer = parseAnswer({ code: twoFactorCode ?? null, method: twoFactorMethod });
  return { params: params.slice(0, -1), answer };
}

/** Maps positional DDP params onto an operation's input, as its binding says. */
export function ddpInput(op: Operation, params: unknown[]): unknown {
  if (op.ddp?.params) return op.ddp.params(params);
  // Methods without a mapping take at most one parameter; more is a mistake worth reporting.
  if (params.length > 1) throw new TwofoldError('error-invalid-params', { received: params.length }, `Expected at most 1 parameter, got ${params.length}`);
  return params[0];
}

/**
 * callWithTwoFactorRequired, unwrapped: the target operation, its input and the answer the
 * envelope carries. The caller then invokes the target once, with its second factor forced.
 */
export function unwrapCallWithTwoFactor(registry: Registry, ctx: OperationContext, params: unknown[]): { target: Operation; input: unknown; answer: SecondFactorAnswer } {
  const envelope = callWithTwoFactorEnvelope;
  if (params.length > 1) throw new TwofoldError('error-invalid-params', { received: params.length }, `Expected at most 1 parameter, got ${params.length}`);
  // Whatever the code, a missing login is HTTP 401 on REST (method.call).
  if (!ctx.user) throw new TwofoldError(envelope.authError).withStatus(401);
  const parsed = envelope.input.safeParse(params[0]);
  if (!parsed.success) throw inputError(parsed.error.issues, params[0], 'ddp');
  const { ddpMethod } = parsed.data;
  const target = NOT_WRAPPABLE.has(ddpMethod) ? undefined : registry.ddpMethod(ddpMethod);
  if (!target) throw new TwofoldError('error-method-not-found', { method: ddpMethod }, `Method '${ddpMethod}' not found`);
  const answer = parseAnswer({ code: parsed.data.code, method: parsed.data.method });
  return { target, input: ddpInput(target, parsed.data.params), answer };
}

/** Where a call runs: the socket's login, or the REST request's headers. */
export interface MethodCaller {
  /** Called once per call, with the second factor the call carried. */
  context(answer: SecondFactorAnswer): Promise<OperationContext>;
  /** For the log line, after the call (a login may have changed it). */
  userId(): string | undefined;
  /** For the log line: how the call arrived. */
  via: 'websocket' | 'sockjs' | 'method.call' | 'method.callAnon';
}

export type MethodOutcome = { result?: unknown } | { error: Record<string, unknown> };

/** Runs one method; never throws: a failure is the Meteor error the client will see. */
export async function dispatchMethod(app: App, registry: Registry, caller: MethodCaller, name: string, rawParams: unknown[]): Promise<MethodOutcome> {
  const started = performance.now();
  let outcome = 'ok';
  let answer: MethodOutcome;
  try {
    const wrapped = name === callWithTwoFactorEnvelope.ddpName;
    const op = wrapped ? undefined : registry.ddpMethod(name);
    if (!wrapped && !op) throw new TwofoldError('error-method-not-found', { method: name }, `Method '${name}' not found`);
    const split = splitTwoFactorParam(rawParams);
    const ctx = await caller.context(split.answer);
    if (op) {
      const result = await invoke(op, ctx, ddpInput(op, split.params));
      answer = { result: op.ddp?.reply ? op.ddp.reply(result) : result };
    } else {
      const call = unwrapCallWithTwoFactor(registry, ctx, split.params);
      const result = await invoke(call.target, { ...ctx, answer: call.answer }, call.input, { forceSecondFactor: true });
      answer = { result: call.target.ddp?.reply ? call.target.ddp.reply(result) : result };
    }
  } catch (e) {
    if (e instanceof TwofoldError) {
      outcome = e.code;
      // The catalogue holds each code's DDP form (login-failed is Meteor's numeric 403).
      answer = { error: meteorErrorOf(e) };
    } else {
      outcome = 'error-internal';
      app.log.error({ err: e, method: name }, 'unexpected error in DDP method');
      answer = { error: meteorErrorOf(new TwofoldError('error-internal')) };
    }
  }
  app.log.info({ ddp: name, via: caller.via, ms: Math.round(performance.now() - started), outcome, userId: caller.userId() }, 'method');
  return answer;
}

/** The DDP `result` message; on success there is no `error` key at all (some clients fail on `"error": null`). */
export function resultMessage(id: string, outcome: MethodOutcome): Record<string, unknown> {
  const msg: Record<string, unknown> = { msg: 'result', id };
  if ('error' in outcome) msg.error = outcome.error;
  else if (outcome.result !== undefined) msg.result = outcome.result;
  return msg;
}
