// One registry of operations. Each is declared once — input schema, who may call it, its
// second-factor policy, its handler — and both transports bind to it, so an operation
// answers the same on REST and DDP and the 2FA rule is one line per operation.

import type { z } from 'zod';
import type { App } from '../app.ts';
import type { User } from '../core/accounts.ts';
import type { TwofoldError } from '../core/errors.ts';
import type { SecondFactorPolicy } from '../core/twofactor/types.ts';
import type { LoginToken } from '../store/tokens.ts';

export type Transport = 'rest' | 'ddp';

/** What the transport lets an operation do to its session (DDP keeps a login per connection). */
export interface SessionControl {
  loggedIn(user: User, tokenHash: string): void;
  loggedOut(): void;
}

export interface OperationContext {
  app: App;
  transport: Transport;
  clientAddress: string;
  userAgent: string;
  user: User | null;
  token: LoginToken | null;
  /** The second factor sent with the call: headers on REST, trailing param or wrapper on DDP. */
  twoFactor: { code?: string | undefined; method?: string | undefined };
  session: SessionControl;
}

export type AuthRule = 'none' | 'optional' | 'user' | 'admin';

/**
 * An operation's second-factor rule. `code-argument`: the code is the operation's own input
 * (Rocket.Chat's `2fa:disable(code)`), checked by the handler through the engine's
 * `checkAuthenticatorCode`, every time and never remembered.
 */
export type OperationSecondFactor = SecondFactorPolicy | 'code-argument';

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

export interface Operation<I = any, O = any> {
  name: string;
  summary: string;
  auth: AuthRule;
  /** The code used when a login is needed and missing (REST answers 401 whatever it is). */
  authError?: 'not-authorized' | 'error-invalid-user' | 'unauthorized';
  /** A policy, or one chosen from the settings and the input (e.g. always ask when a password changes). */
  twoFactor: OperationSecondFactor | ((app: App, input: I) => OperationSecondFactor);
  /** For the password fallback when its setting is off (spec §3.1). */
  requireSecondFactor?: boolean;
  input: z.ZodType<I>;
  /**
   * State checks (already on, not on, needs a verified email, …), run after the input schema
   * and before the second factor: Rocket.Chat answers these without asking for a code, and a
   * code spent on a call that cannot succeed would be wasted.
   */
  precondition?: (ctx: OperationContext, input: I) => void | Promise<void>;
  /**
   * A second-factor answer carried inside the input (Rocket.Chat's `currentPassword`, sent as
   * its `typedPassword`), used when the transport carried none. Only the password fallback is
   * answered this way, and only when it is the method that applies to the caller.
   */
  secondFactorFromInput?: (input: I) => { code: string; method: 'password' } | undefined;
  /**
   * Callable by a user whose role must enrol in a second factor and has none yet
   * (`TWOFOLD_REQUIRE_2FA_FOR_ROLES`): what it takes to see the account and enrol.
   */
  allowedBeforeEnrolment?: boolean;
  /** The refusal of a logged-in caller who is not an admin (default `error-not-allowed`). */
  permissionError?: (transport: Transport) => TwofoldError;
  rest?: RestBinding<O>;
  ddp?: DdpBinding<O>;
  handler(ctx: OperationContext, input: I): Promise<O>;
}

export function defineOperation<I, O>(op: Operation<I, O>): Operation<I, O> {
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
