// One registry of operations. Each is declared once — input schema, who may call it, its
// second-factor rule, its handler — and both transports bind to it, so an operation
// answers the same on REST and DDP and the 2FA rule is one line per operation.

import type { z } from 'zod';
import type { App } from '../app.ts';
import type { User } from '../core/accounts.ts';
import type { TwofoldError } from '../core/errors.ts';
import type { SecondFactorAnswer } from '../core/twofactor/answer.ts';
import type { CheckOutcome, SecondFactorPolicy } from '../core/twofactor/types.ts';
import type { LoginToken } from '../store/tokens.ts';
import type { DepName, Deps } from './deps.ts';

export type Transport = 'rest' | 'ddp';

/** What the transport lets an operation do to its session (DDP keeps a login per connection). */
export interface SessionControl {
  loggedIn(user: User, tokenHash: string): void;
  loggedOut(): void;
}

/** A call as a transport hands it to `invoke`; the operation's own code sees `ContextFor` instead. */
export interface OperationContext {
  app: App;
  transport: Transport;
  clientAddress: string;
  userAgent: string;
  user: User | null;
  token: LoginToken | null;
  /** The caller's second-factor answer: headers on REST, trailing param or wrapper on DDP (see parseAnswer). */
  answer: SecondFactorAnswer;
  session: SessionControl;
}

export type AuthRule = 'none' | 'optional' | 'user' | 'admin';

/** The call without the app: what an operation's code sees, with `deps` in its place. */
export type CallContext<U extends DepName = never> = Omit<OperationContext, 'app'> & {
  /** The dependencies the operation declared in `uses`, and only those. */
  deps: Pick<Deps, U>;
};

/**
 * The context an operation's own code sees: `auth: 'user'` or `'admin'` means a logged-in
 * user, checked by invoke; `U` the dependencies it declared.
 */
export type ContextFor<A extends AuthRule, U extends DepName = never> = [A] extends ['user' | 'admin'] ? CallContext<U> & { user: User } : CallContext<U>;
export type UserContext<U extends DepName = never> = ContextFor<'user', U>;

export type { SecondFactorAnswer };

/** Who a login is for, once its first factor (the password) passed; see the `login` rule. */
export interface LoginSubject {
  user: User;
  /** A code carried in the login's own input (`{totp: {code}}`, `code`), before the transport's. */
  code?: string | undefined;
  /** A remembered device's token carried by the sign-in (`deviceToken`, or REST's `x-2fa-device`). */
  deviceToken?: string | undefined;
}

/** What `invoke` hands the handler about the second factor of this call. */
export interface SecondFactorPassed {
  /** The engine's outcome, when a check ran. */
  outcome?: CheckOutcome;
  /** For a `login` rule: whose first factor passed (absent for a resume, which is never asked). */
  subject?: LoginSubject;
}

/** The password fallback and Rocket.Chat's `typedPassword`, for the rules that check a call. */
export interface CallCheckOptions<I> {
  /** The password confirms even where the fallback setting is off (spec §3.1): never nothing to ask. */
  passwordAlways?: boolean;
  /**
   * A second-factor answer carried inside the input (Rocket.Chat's `currentPassword`, sent as
   * its `typedPassword`), used when the transport carried none. Only the password fallback is
   * answered this way, and only when it is the method that applies to the caller.
   */
  fromInput?: (input: I) => { code: string; method: 'password' } | undefined;
}

/**
 * An operation's second-factor rule (spec §5), applied by `invoke` and nowhere else:
 * - `none`: never asks; `ask`: asks, a remembered success passes; `always`: asks every time;
 * - `depends`: one of those three, chosen per call from the settings and the input;
 * - `login`: the sign-in's own rule (spec §1): `firstFactor` checks the password and names the
 *   user (null for a resume, never asked); the password is never a second factor there;
 * - `code-argument`: the code is the operation's own input (Rocket.Chat's `2fa:disable(code)`,
 *   or the first code of an app being enrolled), checked every time, never remembered;
 *   `refused` turns a wrong or missing code into the operation's own answer or error;
 *   `byEmail`: a caller who names the email method (and has email codes on) answers with an
 *   emailed code instead of the argument (the lost-phone way), under the same budget.
 */
export type SecondFactorRule<I = any, O = any, U extends DepName = DepName> =
  | { kind: 'none' }
  | ({ kind: 'ask' | 'always' } & CallCheckOptions<I>)
  | ({ kind: 'depends'; choose: (deps: Pick<Deps, U>, input: I) => SecondFactorPolicy } & CallCheckOptions<I>)
  | { kind: 'login'; firstFactor: (ctx: ContextFor<'none', U>, input: I) => Promise<LoginSubject | null> }
  | {
    kind: 'code-argument';
    /** The argument's code; absent is refused as a missing parameter unless the email way is taken. */
    code: (input: I) => string | undefined;
    /** Whose code: the enrolled authenticator's (default), or the pending one being enrolled. */
    of?: 'authenticator' | 'enrolment';
    /** An emailed code (`x-2fa-method: email`, `twoFactorMethod: 'email'`) may stand in for the argument. */
    byEmail?: boolean;
    refused?: (e: TwofoldError) => O;
    /** Runs when the code was looked at and was wrong, before the refusal. */
    wrong?: (ctx: UserContext<U>, input: I) => Promise<void>;
  };

export type SecondFactorKind = SecondFactorRule['kind'];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RestBinding<O> {
  method: HttpMethod | HttpMethod[];
  path: string;
  /** Raw input from the request; default: the JSON body (POST) or the query (GET). */
  input?: (req: { body: unknown; query: Record<string, unknown>; headers: Record<string, string | string[] | undefined> }) => unknown;
  /** The HTTP answer; default `{...result, success: true}`. */
  reply?: (result: O) => { status?: number; body: unknown };
  /** A different body for errors (the login endpoint has its own shape). */
  errorReply?: (e: TwofoldError) => { status: number; body: unknown } | undefined;
}

export interface DdpBinding<O> {
  name: string;
  /** Positional params to the raw input; default: the first param. */
  params?: (params: unknown[]) => unknown;
  /** The DDP result; default: the handler's result. */
  reply?: (result: O) => unknown;
}

export interface Operation<I = any, O = any, A extends AuthRule = any, U extends DepName = DepName> {
  name: string;
  summary: string;
  auth: A;
  /** What its code uses (see deps.ts): `ctx.deps` holds these and nothing else. */
  uses: readonly U[];
  /** The code used when a login is needed and missing (REST answers 401 whatever it is). */
  authError?: 'not-authorized' | 'error-invalid-user' | 'unauthorized';
  /** The second-factor rule: the one line that says when this operation asks. */
  secondFactor: SecondFactorRule<I, O, U>;
  input: z.ZodType<I>;
  /**
   * State checks (already on, not on, needs a verified email, …), run after the input schema
   * and before the second factor: Rocket.Chat answers these without asking for a code, and a
   * code spent on a call that cannot succeed would be wasted.
   */
  precondition?(ctx: ContextFor<A, U>, input: I): void | Promise<void>;
  /**
   * Callable by a user whose role must enrol in a second factor and has none yet
   * (`TWOFOLD_REQUIRE_2FA_FOR_ROLES`): what it takes to see the account and enrol.
   */
  allowedBeforeEnrolment?: boolean;
  /** The refusal of a logged-in caller who is not an admin (default `error-not-allowed`). */
  permissionError?: (transport: Transport) => TwofoldError;
  rest?: RestBinding<O>;
  ddp?: DdpBinding<O>;
  handler(ctx: ContextFor<A, U>, input: I, passed: SecondFactorPassed): Promise<O>;
}

export function defineOperation<I, O, A extends AuthRule, U extends DepName = never>(op: Operation<I, O, A, U>): Operation<I, O, A, U> {
  return op;
}

export class Registry {
  private readonly byName = new Map<string, Operation>();
  private readonly byDdpName = new Map<string, Operation>();

  add(...ops: Operation[]): this {
    for (const op of ops) {
      if (this.byName.has(op.name)) throw new Error(`operation ${op.name} declared twice`);
      this.byName.set(op.name, op);
      if (op.ddp) {
        if (this.byDdpName.has(op.ddp.name)) throw new Error(`DDP method ${op.ddp.name} bound twice`);
        this.byDdpName.set(op.ddp.name, op);
      }
    }
    return this;
  }

  get(name: string): Operation | undefined {
    return this.byName.get(name);
  }

  ddpMethod(name: string): Operation | undefined {
    return this.byDdpName.get(name);
  }

  all(): Operation[] {
    return [...this.byName.values()];
  }
}
