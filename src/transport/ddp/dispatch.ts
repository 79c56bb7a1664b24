// One DDP method call, from name and positional params to the `result` message: the socket
// (raw or SockJS-framed) and DDP over REST (`method.call`) all come through here, so the
// trailing second-factor param, the registry lookup and the Meteor error rendering are one rule.

import type { App } from '../../app.ts';
import { TwofoldError } from '../../core/errors.ts';
import { meteorErrorOf } from './errors.ts';
import { ddpInput } from '../../operations/call-with-two-factor.ts';
import { invoke } from '../../operations/invoke.ts';
import type { OperationContext, Registry } from '../../operations/registry.ts';

const TWO_FACTOR_METHODS = ['email', 'totp', 'password'];

/** The trailing `{twoFactorCode, twoFactorMethod}` that Rocket.Chat clients append to a call. */
export function splitTwoFactorParam(params: unknown[]): { params: unknown[]; code?: string | undefined; method?: string | undefined } {
  const last = params[params.length - 1];
  if (last === null || typeof last !== 'object' || Array.isArray(last) || !('twoFactorCode' in last)) return { params };
  const { twoFactorCode, twoFactorMethod } = last as { twoFactorCode: unknown; twoFactorMethod?: unknown };
  const code = typeof twoFactorCode === 'number' ? String(twoFactorCode) : twoFactorCode;
  if (typeof code !== 'string' || code.length > 256) {
    throw new TwofoldError('error-invalid-params', undefined, 'twoFactorCode must be a string');
  }
  if (twoFactorMethod !== undefined && !TWO_FACTOR_METHODS.includes(twoFactorMethod as string)) {
    throw new TwofoldError('error-invalid-params', undefined, 'twoFactorMethod must be one of email, totp, password');
  }
  return { params: params.slice(0, -1), code, method: twoFactorMethod as string | undefined };
}

/** Where a call runs: the socket's login, or the REST request's headers. */
export interface MethodCaller {
  /** Called once per call, with the second factor the call carried. */
  context(twoFactor: OperationContext['twoFactor']): Promise<OperationContext>;
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
    const op = registry.ddpMethod(name);
    if (!op) throw new TwofoldError('error-method-not-found', { method: name }, `Method '${name}' not found`);
    const split = splitTwoFactorParam(rawParams);
    const ctx = await caller.context({ code: split.code, method: split.method });
    const result = await invoke(op, ctx, ddpInput(op, split.params));
    answer = { result: op.ddp?.reply ? op.ddp.reply(result) : result };
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
