import type { App } from '../../app.ts';
import type { User } from '../../core/accounts.ts';
import { EMAIL_ADDRESS_RULE, parseEmailAddress } from '../../core/email-address.ts';
import { TwofoldError } from '../../core/errors.ts';
import { newId, newToken } from '../../core/random.ts';
import { verifyEmailMail } from '../../mail/templates.ts';
import { insertEmailVerification, takeEmailVerification } from '../../store/email-verifications.ts';
import { digestPassword } from '../../adapters/passwords.ts';

export interface CreateUserInput {
  username: string;
  name?: string | undefined;
  email?: string | undefined;
  /** Either the plaintext or its SHA-256 hex digest. */
  password?: { plain: string } | { digest: string } | undefined;
  verified?: boolean | undefined;
  roles?: string[] | undefined;
  email2fa?: boolean | undefined;
}

export async function createUser(app: App, input: CreateUserInput): Promise<User> {
  const { users } = app.store;
  // Every way in (REST, DDP, CLI, tests) stores the address in the one form mail goes to.
  if (input.email !== undefined) {
    const email = parseEmailAddress(input.email);
    if (email === null) throw new TwofoldError('error-invalid-email', { problem: EMAIL_ADDRESS_RULE });
    input = { ...input, email };
  }
  if (await users.byUsername(input.username)) throw new TwofoldError('error-username-in-use', { username: input.username });
  if (input.email && await users.emailOwner(input.email)) throw new TwofoldError('error-email-in-use');
  const digest = input.password ? ('plain' in input.password ? digestPassword(input.password.plain) : input.password.digest) : null;
  try {
    return await users.create({
      id: newId(app.random),
      username: input.username,
      name: input.name ?? input.username,
      passwordHash: digest ? await app.passwords.hash(digest) : null,
      roles: input.roles ?? ['user'],
      createdAt: app.clock.now(),
      emails: input.email ? [{ address: input.email, verified: input.verified ?? false }] : [],
      email2faEnabled: input.email2fa ?? false,
    });
  } catch (e) {
    // Two sign-ups racing for one name: the unique index decides.
    if (/unique|duplicate/i.test(String((e as Error).message))) throw new TwofoldError('error-username-in-use', { username: input.username });
    throw e;
  }
}

/** Mails a link that proves the address belongs to the user. */
export async function sendVerificationMail(app: App, user: User, address: string): Promise<void> {
  const token = newToken(app.random);
  await insertEmailVerification(app.store.db, {
    tokenHash: app.keys.hashToken(token), userId: user.id, address, expiresAt: app.clock.now() + app.settings.emailVerifyTtl * 1000,
  });
  const link = `${app.publicUrl()}/verify-email#token=${encodeURIComponent(token)}`;
  await app.mailer.send(verifyEmailMail(address, user.username, link));
}

export async function verifyEmailToken(app: App, token: string): Promise<{ userId: string; address: string }> {
  const hash = app.keys.hashToken(token);
  const row = await takeEmailVerification(app.store.db, hash);
  if (!row || row.expiresAt <= app.clock.now()) throw new TwofoldError('error-invalid-token');
  if (!await app.store.users.setEmailVerified(row.userId, row.address, true)) throw new TwofoldError('error-invalid-token');
  return { userId: row.userId, address: row.address };
}

/**
 * Issues a login token: returned once, stored only as its hash. `remembered`: the sign-in
 * itself passed a second factor, so the new token starts out remembered for that client.
 */
export async function issueLoginToken(
  app: App, user: User, remembered?: { until: number; fingerprint: string },
): Promise<{ token: string; tokenHash: string; expiresAt: number }> {
  const token = newToken(app.random);
  const tokenHash = app.keys.hashToken(token);
  const now = app.clock.now();
  const expiresAt = now + app.settings.loginTokenTtl * 1000;
  await app.store.tokens.insert({
    tokenHash, userId: user.id, kind: 'login', name: null, bypass2fa: false, createdAt: now, expiresAt,
    twofaUntil: remembered?.until ?? null, twofaFingerprint: remembered?.fingerprint ?? null,
  });
  return { token, tokenHash, expiresAt };
}

/** The user and token behind a token string, or null when unknown, expired or deactivated. */
export async function authenticateToken(app: App, token: string, userId?: string) {
  if (!token || token.length > 256) return null;
  return authenticateTokenHash(app, app.keys.hashToken(token), userId);
}

/** As authenticateToken, for a session that kept the hash (a DDP connection re-checks it on every call). */
export async function authenticateTokenHash(app: App, tokenHash: string, userId?: string) {
  // From memory when the copy is known to be current, else one read (src/store/session-cache.ts).
  const found = await app.store.sessions.find(tokenHash, app.clock.now());
  if (!found || (userId !== undefined && found.token.userId !== userId)) return null;
  if (!found.user.active) return null;
  return found;
}
