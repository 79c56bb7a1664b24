import type { User } from '../../accounts.ts';
import type { MethodName, TwoFactorDeps, TwoFactorSettings } from '../types.ts';

/** The details of a `totp-required` / `totp-invalid` / `totp-max-attempts` error (spec §3.3). */
export type ChallengeDetails = { method: MethodName; codeGenerated: boolean; availableMethods: string[] } & Record<string, unknown>;

/**
 * One way to prove the second factor. The engine iterates these; a new way (passkeys, …) is a
 * new module here and one entry in `METHODS`.
 */
export interface SecondFactorMethod {
  /** The module's own name, for the audit trail. */
  name: 'totp' | 'email' | 'backup-code' | 'password' | 'webauthn';
  /** The protocol's method name a client sends for it (a backup code is sent as a `totp` code). */
  answers: MethodName;
  /** Whether the user can use it now (settings and account state). */
  isEnabled(user: User, s: TwoFactorSettings): boolean;
  /** Whether a code sent under `answers` is for this module (an 8-character `totp` code is a backup code). */
  accepts(code: string): boolean;
  /** The error details when this method is asked for; `send`: a code may be sent now (email). */
  challenge(deps: TwoFactorDeps, user: User, available: string[], send: boolean): Promise<ChallengeDetails>;
  /** True for a good code, which is spent (replay-proof); runs inside the failure budget. */
  verify(deps: TwoFactorDeps, user: User, code: string): Promise<boolean>;
  /**
   * Its `verify` waits for slow work (argon2 off the event loop, a passkey's signature and
   * its own storage): the check is reserved before and settled after, instead of running as
   * one transaction that would hold SQLite's one connection across the wait.
   */
  slow?: true;
}

/** The details of a method that sends nothing: only which method and which are available. */
export const plainChallenge = (method: MethodName, available: string[]): ChallengeDetails =>
  ({ method, codeGenerated: false, availableMethods: available });
