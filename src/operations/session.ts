import { z } from 'zod';
import { publicUser, type User } from '../core/accounts.ts';
import { TwofoldError } from '../core/errors.ts';
import { rememberedAfterLogin } from '../core/twofactor/engine.ts';
import { clientOf, recordAudit } from './shared/audit.ts';
import { findRememberedDevice, MAX_DEVICE_TOKEN_LENGTH, rememberDevice } from './shared/devices.ts';
import { beginLoginAttempt, loginKeyOf } from './shared/limits.ts';
import { digestPassword } from '../adapters/passwords.ts';
import { clientFingerprint } from './invoke.ts';
import { recordLoginOrigin } from './my-security.ts';
import type { Deps } from './deps.ts';
import { defineOperation, type ContextFor, type LoginSubject, type SecondFactorPassed } from './registry.ts';
import * as s from './schemas.ts';

// Spec §1: every form a Rocket.Chat or Meteor client logs in with.
const password = z.union([
  s.plainPassword,
  z.object({ digest: s.sha256Digest, algorithm: z.literal('sha-256') }).strict(),
  z.object({ hashed: s.sha256Digest }).strict(),
]);
const userSelector = z.union([
  z.object({ username: z.string().min(1).max(254) }).strict(),
  z.object({ email: z.string().min(1).max(254) }).strict(),
  z.object({ id: s.id }).strict(),
]);
const passwordLogin = z.object({
  user: z.union([z.string().min(1).max(254), userSelector]).optional(),
  username: z.string().min(1).max(254).optional(),
  email: z.string().min(1).max(254).optional(),
  password,
  code: s.code.optional(),
  // "Remember this device" (issue 14 §4): ask for a device token with this sign-in's code, or
  // show the one a earlier sign-in was given.
  rememberDevice: z.boolean().optional(),
  deviceToken: z.string().min(1).max(MAX_DEVICE_TOKEN_LENGTH).optional(),
  // Rocket.Chat clients may send these alongside; they change nothing here.
  ldap: z.boolean().optional(),
  ldapOptions: z.object({}).optional(),
}).strict();
const resumeLogin = z.object({ resume: z.string().min(1).max(256), code: s.code.optional() }).strict();
const totpLogin = z.object({ totp: z.object({ login: z.union([passwordLogin, resumeLogin]), code: s.code }).strict() }).strict();

export const loginInput = z.union([resumeLogin, totpLogin, passwordLogin]);
type LoginInput = z.infer<typeof loginInput>;

type Who = { username: string } | { email: string } | { id: string };

interface PasswordRequest {
  who: Who;
  digest: string;
  code?: string | undefined;
  rememberDevice?: boolean | undefined;
  deviceToken?: string | undefined;
}

function normalize(input: LoginInput): { resume: string } | PasswordRequest {
  if ('totp' in input) {
    const inner = normalize(input.totp.login);
    return 'resume' in inner ? inner : { ...inner, code: input.totp.code };
  }
  if ('resume' in input) return { resume: input.resume };
  const pw = input.password;
  const digest = typeof pw === 'string' ? digestPassword(pw) : 'digest' in pw ? pw.digest : pw.hashed;
  let who: Who | undefined;
  if (typeof input.user === 'string') who = input.user.includes('@') ? { email: input.user } : { username: input.user };
  else if (input.user) who = input.user;
  else if (input.username) who = { username: input.username };
  else if (input.email) who = { email: input.email };
  if (!who) throw new TwofoldError('error-parameter-required', { param: 'user' }, 'user is required');
  return { who, digest: digest.toLowerCase(), code: input.code, rememberDevice: input.rememberDevice, deviceToken: input.deviceToken };
}

const nameOf = (who: Who) => ('id' in who ? who.id : 'email' in who ? who.email : who.username);

async function findUser(deps: Pick<Deps, 'users'>, who: Who): Promise<User | null> {
  if ('id' in who) return deps.users.byId(who.id);
  if ('email' in who) return deps.users.byEmail(who.email);
  return deps.users.byUsername(who.username);
}

// Verifying against a fixed hash when the user is unknown keeps the answer time the same,
// so the timing does not tell which usernames exist.
let decoyHash: Promise<string> | undefined;
const decoy = (deps: Pick<Deps, 'passwords'>) => (decoyHash ??= deps.passwords.hash(digestPassword('twofold-decoy')));

export interface LoginResult {
  user: User;
  me: ReturnType<typeof publicUser>;
  token: string;
  tokenExpires: Date;
  type: 'password' | 'resume';
  /** A new remembered device's token, once, when the sign-in asked for one and passed a code. */
  deviceToken?: string | undefined;
}

/**
 * The first factor: the password of the named user, under the login limits. Null for a
 * resume, which is never challenged (spec §1) and is checked by the handler.
 */
const LOGIN_USES = ['users', 'passwords', 'limits', 'settings', 'clock', 'audit', 'accounts', 'devices', 'keys', 'random', 'sessionActivity'] as const;
type LoginContext = ContextFor<'none', (typeof LOGIN_USES)[number]>;

async function passwordFactor(ctx: LoginContext, input: LoginInput): Promise<LoginSubject | null> {
  const { deps } = ctx;
  const req = normalize(input);
  if ('resume' in req) return null;
  const user = await findUser(deps, req.who);
  const attempt = await beginLoginAttempt(deps, loginKeyOf(user?.id, nameOf(req.who)), clientOf(ctx), user?.id ?? null);
  const ok = await deps.passwords.verify(user?.passwordHash ?? await decoy(deps), req.digest);
  if (!user || !user.passwordHash || !user.active || !ok) {
    await recordAudit(ctx, { event: 'login-failure', userId: user?.id ?? null, details: { reason: !user ? 'unknown-user' : !ok ? 'password' : 'inactive' } });
    throw new TwofoldError('login-failed');
  }
  await attempt.succeeded();
  return { user, code: req.code, deviceToken: req.deviceToken };
}

async function login(ctx: LoginContext, input: LoginInput, passed: SecondFactorPassed): Promise<LoginResult> {
  const { deps } = ctx;
  if (!passed.subject) {
    const req = normalize(input) as { resume: string };
    const found = await deps.accounts.authenticateToken(req.resume);
    if (!found) throw new TwofoldError('login-failed');
    ctx.session.loggedIn(found.user, found.token.tokenHash);
    return { user: found.user, me: publicUser(found.user, deps.settings), token: req.resume, tokenExpires: new Date(found.token.expiresAt ?? 8.64e15), type: 'resume' };
  }
  const { user } = passed.subject;
  const outcome = passed.outcome!;
  const device = outcome.passed === 'device' ? await findRememberedDevice(deps, passed.subject.deviceToken ?? '') : null;
  if (device) await deps.devices.touch(device.id, deps.clock.now());
  await recordAudit(ctx, {
    event: 'login-success', userId: user.id, method: outcome.passed === 'verified' ? outcome.method : undefined,
    // The audit trail says when a sign-in skipped its second factor, and on which device.
    details: device ? { secondFactor: 'remembered-device', device: device.id } : undefined,
  });
  // Only a sign-in that proved a second factor may make a device skip it next time.
  const req = normalize(input) as PasswordRequest;
  const deviceToken = req.rememberDevice === true && outcome.passed === 'verified' ? await rememberDevice(ctx, user) ?? undefined : undefined;
  if (deviceToken) {
    // The browser's previous token for this user (expired, or from before a change) is replaced, not left in the list.
    const previous = passed.subject.deviceToken ? await findRememberedDevice(deps, passed.subject.deviceToken) : null;
    if (previous && previous.userId === user.id) await deps.devices.remove(user.id, previous.id);
    await recordAudit(ctx, { event: 'device-remembered', userId: user.id, details: { days: deps.settings.rememberDeviceDays } });
  }
  const until = rememberedAfterLogin(outcome, deps.settings, deps.clock.now());
  const issued = await deps.accounts.issueLoginToken(user, until === null ? undefined : { until, fingerprint: clientFingerprint(ctx) });
  await recordLoginOrigin(ctx, issued.tokenHash);
  ctx.session.loggedIn(user, issued.tokenHash);
  return { user, me: publicUser(user, deps.settings), token: issued.token, tokenExpires: new Date(issued.expiresAt), type: 'password', deviceToken };
}

/**
 * REST may carry the device token as the `x-2fa-device` header (as the code travels in
 * `x-2fa-code`): it joins a password login's body, where the schema bounds it. A body that
 * names its own token, or a resume, is left as it is.
 */
function withDeviceHeader(body: unknown, header: string | string[] | undefined): unknown {
  if (typeof header !== 'string' || header === '' || body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const b = body as Record<string, unknown>;
  if ('password' in b) return 'deviceToken' in b ? body : { ...b, deviceToken: header };
  const totp = b.totp;
  if (totp !== null && typeof totp === 'object' && !Array.isArray(totp)) {
    const login = (totp as Record<string, unknown>).login;
    if (login !== null && typeof login === 'object' && !Array.isArray(login) && 'password' in login && !('deviceToken' in login)) {
      return { ...b, totp: { ...totp, login: { ...login, deviceToken: header } } };
    }
  }
  return body;
}

/** REST login errors have their own shape (spec §1): 401 with `status: "error"`. */
function loginErrorReply(e: TwofoldError) {
  if (e.code === 'login-failed') return { status: 401, body: { status: 'error', error: 'Unauthorized', message: 'Unauthorized' } };
  if (e.code.startsWith('totp-') || e.code.startsWith('error-login-blocked-')) {
    return { status: 401, body: { success: false, status: 'error', error: e.code, details: e.details, message: e.reason } };
  }
  return undefined;
}

export const loginOperation = defineOperation({
  name: 'login',
  allowedBeforeEnrolment: true,
  summary: 'Log in with a password (plain or SHA-256 digest) or a resume token; a second factor when the user has one.',
  auth: 'none',
  uses: LOGIN_USES,
  // The password is the first factor; invoke then asks for the second (spec §1).
  secondFactor: { kind: 'login', firstFactor: passwordFactor },
  input: loginInput,
  rest: {
    method: 'POST',
    path: '/api/v1/login',
    input: ({ body, headers }) => withDeviceHeader(body, headers['x-2fa-device']),
    reply: (r) => ({
      body: { status: 'success', data: { userId: r.user.id, authToken: r.token, me: r.me, ...(r.deviceToken ? { deviceToken: r.deviceToken } : {}) } },
    }),
    errorReply: loginErrorReply,
  },
  ddp: {
    name: 'login',
    reply: (r) => ({ id: r.user.id, token: r.token, tokenExpires: r.tokenExpires, type: r.type, ...(r.deviceToken ? { deviceToken: r.deviceToken } : {}) }),
  },
  handler: login,
});

export const logoutOperation = defineOperation({
  name: 'logout',
  allowedBeforeEnrolment: true,
  summary: 'End this login: the token is revoked.',
  auth: 'optional',
  uses: ['tokens'],
  secondFactor: { kind: 'none' },
  input: s.noInput,
  rest: {
    method: ['POST', 'GET'],
    path: '/api/v1/logout',
    reply: () => ({ body: { status: 'success', data: { message: "You've been logged out!" } } }),
  },
  ddp: { name: 'logout', reply: () => undefined },
  async handler(ctx) {
    if (ctx.transport === 'rest' && !ctx.user) throw new TwofoldError('unauthorized');
    if (ctx.token) await ctx.deps.tokens.remove(ctx.token.tokenHash);
    ctx.session.loggedOut();
  },
});

export const meOperation = defineOperation({
  name: 'me',
  allowedBeforeEnrolment: true,
  summary: 'The logged-in user: profile, emails, roles and which second factors are on.',
  auth: 'user',
  authError: 'unauthorized',
  uses: ['settings'],
  secondFactor: { kind: 'none' },
  input: s.noInput,
  rest: { method: 'GET', path: '/api/v1/me' },
  ddp: { name: 'twofold:me' },
  async handler(ctx) {
    return publicUser(ctx.user, ctx.deps.settings);
  },
});
