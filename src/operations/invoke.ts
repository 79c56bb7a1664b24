import type { z } from 'zod';
import { isAdmin } from '../core/accounts.ts';
import { isTwofoldError, TwofoldError } from '../core/errors.ts';
import { sha256Hex } from '../core/secrets.ts';
import type { SecondFactorAnswer } from '../core/twofactor/answer.ts';
import { checkAuthenticatorCode, checkEnrolmentCode, checkSecondFactor, selectMethod } from '../core/twofactor/engine.ts';
import type { CheckOutcome, SecondFactorPolicy } from '../core/twofactor/types.ts';
import { pickDeps, type DepName } from './deps.ts';
import type { AuthRule, ContextFor, Operation, OperationContext, SecondFactorPassed, SecondFactorRule, Transport } from './registry.ts';
import { clientOf } from './shared/audit.ts';
import { deviceFingerprint, findRememberedDevice } from './shared/devices.ts';
import { mustEnrolFirst, noteSessionUse } from './my-security.ts';

/** Same token from another browser or address must not inherit a remembered success. */
export const clientFingerprint = (ctx: Pick<OperationContext, 'userAgent' | 'clientAddress'>) =>
  sha256Hex(`${ctx.clientAddress}\0${ctx.userAgent}`);

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

export function parseInput<I>(op: Pick<Operation<I>, 'input'>, raw: unknown, transport?: Transport): I {
  const parsed = op.input.safeParse(raw);
  if (!parsed.success) throw inputError(parsed.error.issues, raw, transport);
  return parsed.data;
}

/**
 * Rocket.Chat turns `currentPassword` into a password second factor (`typedPassword`). Here it
 * answers only when the transport carried no code and the password fallback is the method
 * that applies; a user with an app or email codes is asked for those instead.
 */
function answerFromInput<I>(rule: CallRule<I>, ctx: OperationContext, input: I): SecondFactorAnswer {
  if (!rule.fromInput || !ctx.user || (ctx.answer.code ?? '') !== '') return ctx.answer;
  const carried = rule.fromInput(input);
  if (!carried) return ctx.answer;
  const { method } = selectMethod(ctx.user, { method: carried.method, purpose: 'call', requireSecondFactor: rule.passwordAlways }, ctx.app.engineDeps.settings);
  return method === carried.method ? carried : ctx.answer;
}

type CallRule<I> = Extract<SecondFactorRule<I>, { kind: 'ask' | 'always' | 'depends' }>;

export interface InvokeOptions {
  /**
   * callWithTwoFactorRequired: the code it carries is always checked, even where the operation
   * would not ask, and a remembered success neither skips the check nor comes from it (as in
   * Rocket.Chat, whose wrapper checks without the connection).
   */
  forceSecondFactor?: boolean;
}

/** A wrong or missing code of a `code-argument` rule with a `refused` answer: the operation's falsy result. */
type Applied<O> = { passed: SecondFactorPassed } | { refused: O };

/**
 * The second-factor rule of one call, applied: the only caller of the engine's checks.
 * Throws the protocol's errors (`totp-required`, `totp-invalid`, …) when the call may not go on.
 */
async function applySecondFactor<I, O, A extends AuthRule, U extends DepName>(
  op: Operation<I, O, A, U>, ctx: OperationContext, own: ContextFor<A, U>, input: I, opts: InvokeOptions,
): Promise<Applied<O>> {
  const rule = op.secondFactor;
  const client = clientOf(ctx);
  const engine = ctx.app.engineDeps;
  if (rule.kind === 'login') {
    const subject = await rule.firstFactor(own, input);
    // Resume logins are never challenged (spec §1).
    if (!subject) return { passed: {} };
    const device = subject.deviceToken ? await findRememberedDevice(pickDeps(ctx.app, ['devices', 'keys']), subject.deviceToken) : null;
    const outcome = await checkSecondFactor(engine, {
      user: subject.user, policy: 'always', purpose: 'login', code: subject.code ?? ctx.answer.code, method: ctx.answer.method, client,
      device, deviceFingerprint: deviceFingerprint(ctx),
    });
    return { passed: { subject, outcome } };
  }

  const callRule = rule.kind === 'ask' || rule.kind === 'always' || rule.kind === 'depends' ? rule : undefined;
  const answer = callRule ? answerFromInput(callRule, ctx, input) : ctx.answer;
  let policy: SecondFactorPolicy = rule.kind === 'depends' ? rule.choose(own.deps, input)
    : rule.kind === 'ask' || rule.kind === 'always' ? rule.kind : 'none';
  if (opts.forceSecondFactor) policy = 'always';
  let outcome: CheckOutcome | undefined;
  if (policy === 'ask' || policy === 'always') {
    if (!ctx.user) throw new TwofoldError('error-invalid-user');
    // Rocket.Chat lets a personal access token created with bypassTwoFactor skip the check.
    // Not here for the operations that always ask (and callWithTwoFactorRequired, which
    // makes its target always ask): a stolen token must not change the account's security.
    if (!ctx.token?.bypass2fa || policy === 'always') {
      outcome = await checkSecondFactor(engine, {
        user: ctx.user,
        policy,
        purpose: 'call',
        code: answer.code,
        method: answer.method,
        token: ctx.token,
        fingerprint: clientFingerprint(ctx),
        client,
        requireSecondFactor: callRule?.passwordAlways,
      });
    }
  }

  if (rule.kind === 'code-argument') {
    const user = ctx.user;
    if (!user) throw new TwofoldError('error-invalid-user');
    const code = rule.code(input) ?? '';
    const emailCode = byEmail(rule, ctx) ? answer.code ?? '' : undefined;
    try {
      if (rule.of === 'enrolment') {
        const wrong = rule.wrong && (() => rule.wrong!({ ...own, user }, input));
        await checkEnrolmentCode(engine, user, user.totpPendingSecret ?? '', code, client, wrong);
      } else if (!(emailCode !== undefined && outcome?.passed === 'verified' && outcome.method === 'email')) {
        // (callWithTwoFactorRequired already spent that email code on this very call.)
        outcome = await checkAuthenticatorCode(engine, user, code, client, emailCode);
      }
    } catch (e) {
      // Too many failures stays an error: the client must learn it has to wait. So does the
      // challenge of a caller who named the email method: a code was mailed, or email is not theirs.
      const asked = isTwofoldError(e) && (e.code === 'totp-invalid' || (e.code === 'totp-required' && emailCode === undefined));
      if (rule.refused && asked) return { refused: rule.refused(e) };
      throw e;
    }
  }
  return { passed: outcome ? { outcome } : {} };
}

/** The caller named the email method on an operation whose code argument an emailed code may replace. */
const byEmail = (rule: { kind: string; byEmail?: boolean }, ctx: Pick<OperationContext, 'answer'>) =>
  rule.kind === 'code-argument' && rule.byEmail === true && ctx.answer.method === 'email';

/** A `code-argument` operation called without its code (and not the email way): the missing parameter, before any state check. */
function requireCodeArgument<I, U extends DepName>(op: Pick<Operation<I, unknown, AuthRule, U>, 'secondFactor'>, ctx: OperationContext, input: I): void {
  const rule = op.secondFactor;
  if (rule.kind === 'code-argument' && rule.code(input) === undefined && !byEmail(rule, ctx)) {
    throw new TwofoldError('error-parameter-required', { param: 'code' }, 'code is required');
  }
}

/** The one path every call takes: login rule, input schema, precondition, second factor, handler. */
export async function invoke<I, O, A extends AuthRule, U extends DepName>(
  op: Operation<I, O, A, U>, ctx: OperationContext, raw: unknown, opts: InvokeOptions = {},
): Promise<O> {
  const own = authorized(op, ctx);
  noteSessionUse(ctx);
  // TWOFOLD_REQUIRE_2FA_FOR_ROLES: such a user may only do what enrolling needs.
  if (ctx.user && !op.allowedBeforeEnrolment && mustEnrolFirst(ctx.user, ctx.app.settings)) throw new TwofoldError('error-2fa-enrolment-required');
  const input = parseInput(op, raw, ctx.transport);
  requireCodeArgument(op, ctx, input);
  await op.precondition?.(own, input);
  const applied = await applySecondFactor(op, ctx, own, input, opts);
  if ('refused' in applied) return applied.refused;
  return op.handler(own, input, applied.passed);
}

/**
 * The operation's `auth` rule, checked: the context its code sees, with the user it requires
 * and the dependencies it declared in place of the app.
 */
function authorized<A extends AuthRule, U extends DepName>(
  op: Pick<Operation<never, never, A, U>, 'auth' | 'authError' | 'permissionError' | 'uses'>, ctx: OperationContext,
): ContextFor<A, U> {
  if (op.auth === 'user' || op.auth === 'admin') {
    // Whatever the code, a missing login is HTTP 401 on REST.
    if (!ctx.user) throw new TwofoldError(op.authError ?? 'not-authorized').withStatus(401);
    if (op.auth === 'admin' && !isAdmin(ctx.user)) throw op.permissionError?.(ctx.transport) ?? new TwofoldError('error-not-allowed');
  }
  const { app, ...call } = ctx;
  return { ...call, deps: pickDeps(app, op.uses) } as ContextFor<A, U>;
}
