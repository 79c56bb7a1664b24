import type { User } from '../accounts.ts';
import type { AuditEvent, ClientInfo } from '../audit.ts';
import type { Clock } from '../clock.ts';
import type { Random } from '../random.ts';
import type { ServerKeys } from '../secrets.ts';
import type { WebAuthnDeps } from './webauthn-types.ts';

export type MethodName = 'totp' | 'email' | 'password' | 'webauthn';
export const METHOD_NAMES = ['totp', 'email', 'password', 'webauthn'] as const satisfies readonly MethodName[];

/** How an operation treats the second factor (spec §5). */
export type SecondFactorPolicy = 'none' | 'ask' | 'always';

export interface LiveEmailCode {
  id: string;
  codeHash: string;
  createdAt: number;
  expiresAt: number;
}

/** The outcome of reserving a check: it may go ahead, or the window or the suspension refuses it. */
export type Reservation = 'reserved' | 'window-full' | 'suspended';

export interface ReservationLimits {
  /** Failures at or after this instant count in the window. */
  since: number;
  /** Failures allowed in the window (`TWOFOLD_2FA_FAILURE_LIMIT`). */
  limit: number;
  /** Consecutive failures before the second factor is suspended. */
  maxConsecutive: number;
}

/** The user's check state as `runCheck` found it, under the user's lock. */
export interface CheckState {
  suspended: boolean;
  /** Failed checks in a row (only a success resets it). */
  failuresInRow: number;
}

/** What the body of `runCheck` works with: everything inside the one transaction. */
export interface CheckTransaction {
  /** The store, each read and write inside the transaction. */
  store: TwoFactorStore;
  state: CheckState;
  /** Writes an audit event in the transaction; absent: the store keeps no audit trail (the engine's deps.audit is used). */
  audit?(event: AuditEvent): Promise<void>;
}

/** What the engine needs from storage; the SQL adapters implement it. */
export interface TwoFactorStore {
  liveEmailCodes(userId: string, now: number): Promise<LiveEmailCode[]>; // oldest first
  /** Inserts a code and drops the oldest beyond `maxLive` live ones. */
  addEmailCode(userId: string, code: LiveEmailCode, maxLive: number, now: number): Promise<void>;
  /** Deletes the code and every older one; true only for the one caller that deleted it. */
  consumeEmailCode(userId: string, code: LiveEmailCode): Promise<boolean>;
  dropEmailCodes(userId: string): Promise<void>;
  recordFailure(userId: string, kind: MethodName, at: number, id: string): Promise<void>;
  countFailures(userId: string, since: number, kind?: MethodName): Promise<number>;
  /**
   * Counts one failed check *before* the code is looked at, in one transaction under the
   * user's lock: refused (nothing counted) when the user is suspended or the window is full;
   * else a failure row with `id` and one more consecutive failure are written.
   */
  reserveCheck(userId: string, kind: MethodName, at: number, id: string, limits: ReservationLimits): Promise<Reservation>;
  /**
   * Runs one whole check (state, verification with its replay guard, success or failure
   * bookkeeping, audit) as one transaction under the user's lock: all of it is stored, or
   * none. `at` is the time of the audit events written through `tx.audit`. The body must use
   * only `tx` (on SQLite the one connection is held until it ends) and must not wait for
   * anything slow (the password and passkey checks reserve first and settle after instead).
   */
  runCheck<T>(userId: string, at: number, body: (tx: CheckTransaction) => Promise<T>): Promise<T>;
  /** A check in `runCheck` failed: its failure row and one more in a row; true when this failure suspended the user. */
  failedCheck(userId: string, kind: MethodName, at: number, id: string, maxConsecutive: number): Promise<boolean>;
  /** A check in `runCheck` passed: the run of consecutive failures ends. */
  resetFailuresInRow(userId: string): Promise<void>;
  /** The reserved check passed: its failure row is given back and the consecutive count starts again. */
  checkPassed(userId: string, id: string): Promise<void>;
  /** The reserved check failed: true for the one call whose failure suspended the user. */
  checkFailed(userId: string, at: number, maxConsecutive: number): Promise<boolean>;
  isSuspended(userId: string): Promise<boolean>;
  /** Times of the failures since `since` (for how long a lockout lasts); optional: without it the whole window is told. */
  failureTimes?(userId: string, since: number): Promise<number[]>;
  acceptTotpStep(userId: string, step: number): Promise<boolean>;
  consumeBackupCode(userId: string, codeHash: string): Promise<boolean>;
  remember(tokenHash: string, until: number, fingerprint: string): Promise<void>;
  /** Forgets the user's remembered devices (on suspension); optional: the unit tests' store has none. */
  forgetDevices?(userId: string): Promise<number>;
}

export interface TwoFactorSettings {
  twoFactorEnabled: boolean;
  email2faEnabled: boolean;
  totpEnabled: boolean;
  passwordFallback: boolean;
  rememberFor: number;
  rememberLogin: boolean;
  /** "Remember this device" lifetime in days (0: off). */
  rememberDeviceDays: number;
  emailCodeTtl: number;
  emailCodeMaxLive: number;
  emailCodeMaxAttempts: number;
  failureLimit: number;
  failureWindow: number;
  maxConsecutiveFailures: number;
  totpMaxDelta: number;
  /** Passkeys are a usable method (`TWOFOLD_WEBAUTHN_ENABLED`); absent: on. */
  webauthnEnabled?: boolean;
}

export interface TwoFactorDeps {
  store: TwoFactorStore;
  clock: Clock;
  random: Random;
  keys: ServerKeys;
  settings: TwoFactorSettings;
  /** Delivers an email code to the given addresses (the mail adapter). */
  sendCodeMail(user: User, addresses: string[], code: string, expiresAt: number): Promise<void>;
  /** Tells the user their second factor is suspended and how to recover; absent only in unit tests. */
  sendSuspendedMail?(user: User, addresses: string[]): Promise<void>;
  /** Checks a SHA-256 digest against the stored slow hash, off the event loop. */
  verifyPassword(passwordHash: string, digest: string): Promise<boolean>;
  /** Shared send limits (spec §3.6), kept in the database; absent only in unit tests. */
  limits?: TwoFactorLimits;
  /** Appends to the audit trail; absent only in unit tests. */
  audit?(event: AuditEvent): Promise<void>;
  /**
   * The log line of an event a check's transaction stored (`CheckTransaction.audit`), told
   * once that transaction has committed; absent: no log line.
   */
  auditLogged?(event: AuditEvent): void;
  /** Passkey storage and the relying party; absent: passkeys are never offered or accepted. */
  webauthn?: WebAuthnDeps;
  /** The client of the current call (see `forClient`): for per-address limits and the audit trail. */
  client?: ClientInfo;
}

export interface TwoFactorLimits {
  /** Counts one email code for the user and the client address; throws `error-too-many-requests` when over a limit. */
  takeCodeSend(userId: string, client: ClientInfo | undefined, automatic?: boolean): Promise<void>;
}

/** The logged-in token a call came with, for remembering a success (spec §3.5). */
export interface CallerToken {
  tokenHash: string;
  twofaUntil: number | null;
  twofaFingerprint: string | null;
}

/** A remembered device named by a password sign-in ("remember this device", issue 14 §4), as stored. */
export interface RememberedDeviceState {
  userId: string;
  /** SHA-256 of the user agent it was issued to. */
  fingerprint: string;
  expiresAt: number;
}

export interface CheckRequest {
  user: User;
  policy: 'ask' | 'always';
  purpose: 'call' | 'login';
  code?: string | undefined;
  method?: string | undefined;
  token?: CallerToken | null;
  /** Hash of user agent + client address. */
  fingerprint?: string;
  /** The password fallback applies even when its setting is off. */
  requireSecondFactor?: boolean;
  /** Transport and client address, for per-address limits and the audit trail. */
  client?: ClientInfo;
  /** Login only: the remembered device the sign-in named (looked up by its token), and this client's device fingerprint. */
  device?: RememberedDeviceState | null;
  deviceFingerprint?: string;
}

export type CheckOutcome =
  | { passed: 'off' | 'remembered' | 'nothing-to-ask' | 'grace' | 'device' }
  | { passed: 'verified'; method: MethodName };
