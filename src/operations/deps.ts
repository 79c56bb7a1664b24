// What an operation's code may use, by name. Each operation declares the few it needs
// (`uses: ['users', 'clock']`); invoke hands its code exactly those, so the declaration says
// what an operation touches and TypeScript refuses a use it does not declare.

import type { App } from '../app.ts';
import type { Settings } from '../config/settings.ts';
import type { User } from '../core/accounts.ts';
import type { AuditEvent } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/random.ts';
import type { ServerKeys } from '../core/secrets.ts';
import type { TwoFactorDeps, TwoFactorLimits } from '../core/twofactor/types.ts';
import type { WebAuthnDeps } from '../core/twofactor/webauthn-types.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { PasswordHasher } from '../adapters/passwords.ts';
import type { Store } from '../store/index.ts';
import { liveLoginSessions, loginTokenHashes, recordSessionOrigin, type LoginSessionRow } from '../store/session-activity.ts';
import {
  authenticateToken, createUser, issueLoginToken, sendVerificationMail, verifyEmailToken, type CreateUserInput,
} from './shared/accounts.ts';
import { settleSessionWrites } from './my-security.ts';

/** Accounts as the operations use them (src/operations/shared/accounts.ts, bound to the app). */
export interface Accounts {
  create(input: CreateUserInput): Promise<User>;
  sendVerificationMail(user: User, address: string): Promise<void>;
  verifyEmailToken(token: string): Promise<{ userId: string; address: string }>;
  issueLoginToken(user: User, remembered?: { until: number; fingerprint: string }): Promise<{ token: string; tokenHash: string; expiresAt: number }>;
  authenticateToken: (token: string) => ReturnType<typeof authenticateToken>;
}

/** The session list's bookkeeping: where each login came from and when it was last used. */
export interface SessionActivity {
  recordOrigin(tokenHash: string, origin: { clientAddress: string; userAgent: string }): Promise<void>;
  live(userId: string, now: number, limit: number): Promise<LoginSessionRow[]>;
  tokenHashes(userId: string, now: number): Promise<string[]>;
  /** Waits for the "last used" writes already started (the caller's own included), so a list shows them. */
  settled(): Promise<void>;
}

export interface Deps {
  settings: Settings;
  clock: Clock;
  random: Random;
  keys: ServerKeys;
  mailer: Mailer;
  passwords: PasswordHasher;
  log: App['log'];
  users: Store['users'];
  tokens: Store['tokens'];
  /** TOTP secrets, backup codes, email codes, failures and suspensions. */
  twoFactorStore: Store['twoFactor'];
  messages: Store['messages'];
  /** The counters behind the login and mail limits. */
  limits: Store['limits'];
  /** Reading the audit trail (`audit` writes to it). */
  auditLog: Store['audit'];
  devices: Store['devices'];
  /** Passkeys as stored (`webauthn` is the same storage as the engine sees it, with the relying party). */
  passkeys: Store['webauthn'];
  /** Appends a security event to the audit trail. */
  audit(event: AuditEvent): Promise<void>;
  /** The email code send limits the engine counts (spec §3.6). */
  codeSendLimits: TwoFactorLimits;
  /** Passkey storage and the relying party. */
  webauthn: WebAuthnDeps;
  /** The second-factor engine's own dependencies (`app.engineDeps`), for the engine's functions. */
  engineDeps: TwoFactorDeps;
  accounts: Accounts;
  sessionActivity: SessionActivity;
}

export type DepName = keyof Deps;

/** Every name, for the docs and for a check that each resolves. */
export const DEP_NAMES = [
  'settings', 'clock', 'random', 'keys', 'mailer', 'passwords', 'log', 'users', 'tokens', 'twoFactorStore', 'messages', 'limits',
  'auditLog', 'devices', 'passkeys', 'audit', 'codeSendLimits', 'webauthn', 'engineDeps', 'accounts', 'sessionActivity',
] as const satisfies readonly DepName[];

// Compile-time: every name of Deps is in DEP_NAMES.
const _everyName: Record<Exclude<DepName, (typeof DEP_NAMES)[number]>, never> = {};
void _everyName;

const noAudit = async () => {};

/**
 * Every dependency, read from the app when asked for: a test that swaps a part of the app
 * (its mailer, a setting) is seen by the next call.
 */
function resolve(app: App, name: DepName): Deps[DepName] {
  switch (name) {
    case 'settings': case 'clock': case 'random': case 'keys': case 'mailer': case 'passwords': case 'log': case 'engineDeps':
      return app[name];
    case 'users': case 'tokens': case 'messages': case 'limits': case 'devices':
      return app.store[name];
    case 'twoFactorStore': return app.store.twoFactor;
    case 'auditLog': return app.store.audit;
    case 'passkeys': return app.store.webauthn;
    case 'audit': return app.engineDeps.audit ?? noAudit;
    case 'codeSendLimits': return app.engineDeps.limits!;
    case 'webauthn': return app.engineDeps.webauthn!;
    case 'accounts': return once(accounts, app, accountsOf);
    case 'sessionActivity': return once(sessionActivity, app, sessionActivityOf);
  }
}

// These two read the app at each call, so one per app serves every call (made per call, they
// were a few percent of a cheap call's time).
const accounts = new WeakMap<App, Accounts>();
const sessionActivity = new WeakMap<App, SessionActivity>();
function once<T>(made: WeakMap<App, T>, app: App, make: (app: App) => T): T {
  let value = made.get(app);
  if (value === undefined) made.set(app, (value = make(app)));
  return value;
}

const accountsOf = (app: App): Accounts => ({
  create: (input) => createUser(app, input),
  sendVerificationMail: (user, address) => sendVerificationMail(app, user, address),
  verifyEmailToken: (token) => verifyEmailToken(app, token),
  issueLoginToken: (user, remembered) => issueLoginToken(app, user, remembered),
  authenticateToken: (token) => authenticateToken(app, token),
});

const sessionActivityOf = (app: App): SessionActivity => ({
  recordOrigin: (tokenHash, origin) => recordSessionOrigin(app.store.db, tokenHash, origin),
  live: (userId, now, limit) => liveLoginSessions(app.store.db, userId, now, limit),
  tokenHashes: (userId, now) => loginTokenHashes(app.store.db, userId, now),
  settled: () => settleSessionWrites(app),
});

/** The dependencies named, and only those: what an operation's code sees as `ctx.deps`. */
export function pickDeps<U extends DepName>(app: App, names: readonly U[]): Pick<Deps, U> {
  const out = {} as Record<DepName, unknown>;
  for (const name of names) out[name] = resolve(app, name);
  return out as Pick<Deps, U>;
}

/** All of them: for code outside an operation (the CLI, invoke itself) that calls the operations' helpers. */
export const operationDeps = (app: App): Deps => pickDeps(app, DEP_NAMES);
