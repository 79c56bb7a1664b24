// Puts the bench's users straight into a Twofold data directory, from the parent process,
// through the same store and server key the server uses. Single users go through the
// ordinary services; the large pools (one user per second-factor call) are bulk inserts
// in one transaction, because one transaction per user would make seeding the slowest
// part of the run.

import type { Insertable } from 'kysely';
import { createApp, type App } from '../../src/app.ts';
import { loadSettings } from '../../src/config/settings.ts';
import type { User } from '../../src/core/accounts.ts';
import { newId, newSixDigitCode, newToken } from '../../src/core/random.ts';
import { newTotpSecret } from '../../src/core/twofactor/totp.ts';
import { createUser, issueLoginToken } from '../../src/operations/shared/accounts.ts';
import type { EmailCodesTable, LoginTokensTable, UserEmailsTable, UsersTable } from '../../src/store/schema.ts';
import type { PoolUser } from '../load/http.ts';

export const BENCH_PASSWORD = 'bench password';

export async function openSeeder(dataDir: string, secretKey: string, databaseUrl?: string): Promise<App> {
  return createApp(loadSettings({}, { dataDir, secretKey, logLevel: 'silent', ...(databaseUrl ? { databaseUrl } : {}) }));
}

export async function addUser(app: App, username: string, opts: { email2fa?: boolean } = {}): Promise<{ user: User; token: string }> {
  const user = await createUser(app, {
    username, name: username, email: `${username}@bench.invalid`, verified: true,
    password: { plain: BENCH_PASSWORD }, email2fa: opts.email2fa ?? false,
  });
  const { token } = await issueLoginToken(app, user);
  return { user, token };
}

/** Stores one live email code for the user, as if it had just been mailed; returns the code. */
export async function addEmailCode(app: App, userId: string): Promise<string> {
  const code = newSixDigitCode();
  const now = app.clock.now();
  await app.engineDeps.store.addEmailCode(userId, {
    id: newId(), codeHash: app.keys.hashCode(userId, code), createdAt: now, expiresAt: now + app.settings.emailCodeTtl * 1000,
  }, app.settings.emailCodeMaxLive, now);
  return code;
}

const CHUNK = 400;

/**
 * `count` users with a login token each and one second factor: an enabled authenticator
 * (the secret sealed with the server key, as enrolment stores it) or email codes with one
 * live code. Returns what a client of each would hold: user id, token, secret or code.
 */
export async function seedPool(app: App, method: 'totp' | 'email', count: number, prefix: string): Promise<PoolUser[]> {
  const now = app.clock.now();
  const created = now - 86_400_000; // a day old: past any new-account grace period
  const pool: PoolUser[] = [];
  const users: Insertable<UsersTable>[] = [];
  const emails: Insertable<UserEmailsTable>[] = [];
  const tokens: Insertable<LoginTokensTable>[] = [];
  const codes: Insertable<EmailCodesTable>[] = [];
  for (let i = 0; i < count; i++) {
    const id = newId();
    const username = `${prefix}-${i}`;
    const token = newToken();
    const secret = method === 'totp' ? newTotpSecret(app.random) : undefined;
    const code = method === 'email' ? newSixDigitCode() : undefined;
    users.push({
      id, username, username_lower: username.toLowerCase(), name: username, password_hash: null, roles: '["user"]',
      active: 1, require_password_change: 0, created_at: created,
      email2fa_enabled: method === 'email' ? 1 : 0, totp_enabled: method === 'totp' ? 1 : 0,
      totp_secret: secret ? app.keys.encrypt(secret, app.random) : null, totp_pending_secret: null, totp_last_step: null,
    });
    emails.push({ address_lower: `${username}@bench.invalid`, address: `${username}@bench.invalid`, user_id: id, verified: 1, created_at: created });
    tokens.push({
      token_hash: app.keys.hashToken(token), user_id: id, kind: 'login', name: null, bypass_2fa: 0,
      created_at: now, expires_at: now + app.settings.loginTokenTtl * 1000, twofa_until: null, twofa_fingerprint: null,
    });
    if (code) codes.push({ id: newId(), user_id: id, code_hash: app.keys.hashCode(id, code), created_at: now, expires_at: now + app.settings.emailCodeTtl * 1000 });
    pool.push({ userId: id, token, secret, code });
  }
  await app.store.db.transaction().execute(async (tx) => {
    for (let i = 0; i < count; i += CHUNK) {
      await tx.insertInto('users').values(users.slice(i, i + CHUNK)).execute();
      await tx.insertInto('user_emails').values(emails.slice(i, i + CHUNK)).execute();
      await tx.insertInto('login_tokens').values(tokens.slice(i, i + CHUNK)).execute();
      if (codes.length) await tx.insertInto('email_codes').values(codes.slice(i, i + CHUNK)).execute();
    }
  });
  return pool;
}
