import { z } from 'zod';
import type { Settings } from '../config/settings.ts';
import { publicUser, type User } from '../core/accounts.ts';
import { isTwofoldError, TwofoldError } from '../core/errors.ts';
import { newId } from '../core/random.ts';
import { signUpRefusedMail } from '../mail/templates.ts';
import { clientOf } from './shared/audit.ts';
import { takeAccountMail } from './shared/limits.ts';
import { digestPassword } from '../adapters/passwords.ts';
import type { Deps } from './deps.ts';
import { revokeCredentials } from './shared/credentials.ts';
import { defineOperation, type UserContext } from './registry.ts';
import * as s from './schemas.ts';

const view = (deps: { settings: Settings }, user: User) => publicUser(user, deps.settings);

async function reload(deps: Pick<Deps, 'users'>, id: string): Promise<User> {
  const user = await deps.users.byId(id);
  if (!user) throw new TwofoldError('error-invalid-user');
  return user;
}

/**
 * Replaces the user's primary email with an unverified one and mails a verification link.
 * `beforeMail` (the mail limit of a user's own change) runs before anything changes, so a
 * refused change leaves the old address in place.
 */
async function changeEmail(
  deps: Pick<Deps, 'users' | 'clock' | 'accounts'>, user: User, address: string, verified = false, beforeMail?: () => Promise<void>,
): Promise<void> {
  const owner = await deps.users.emailOwner(address);
  if (owner && owner !== user.id) throw new TwofoldError('error-email-in-use');
  if (owner === user.id && !verified) return;
  if (!verified) await beforeMail?.();
  const primary = user.emails[0];
  if (primary && primary.address.toLowerCase() !== address.toLowerCase()) await deps.users.removeEmail(user.id, primary.address);
  if (owner === user.id) await deps.users.setEmailVerified(user.id, address, true);
  else await deps.users.addEmail(user.id, address, verified, deps.clock.now());
  if (!verified) await deps.accounts.sendVerificationMail(await reload(deps, user.id), address);
}

async function changeUsername(deps: Pick<Deps, 'users'>, user: User, username: string): Promise<void> {
  if (username.toLowerCase() === user.username.toLowerCase()) {
    if (username !== user.username) await deps.users.update(user.id, { username });
    return;
  }
  if (await deps.users.byUsername(username)) throw new TwofoldError('error-username-in-use', { username });
  await deps.users.update(user.id, { username });
}

/** A new password's hash, or undefined when the password stays. */
const newPasswordHash = async (deps: Pick<Deps, 'passwords'>, password: string | undefined) =>
  (password !== undefined ? deps.passwords.hash(digestPassword(password)) : undefined);

/**
 * A sign-up whose name or address is taken, with TWOFOLD_MASK_UNKNOWN_USERS: the caller gets
 * what a new account would get (with an id that leads nowhere) and only the mailbox learns
 * why no link came. The password is hashed anyway so the answer takes as long.
 */
async function maskedSignUp(
  deps: Pick<Deps, 'passwords' | 'users' | 'mailer' | 'random' | 'clock' | 'settings'>,
  input: { username: string; email: string; pass: string; name?: string | undefined },
) {
  await newPasswordHash(deps, input.pass);
  const emailTaken = (await deps.users.emailOwner(input.email)) !== null;
  await deps.mailer.send(signUpRefusedMail(input.email, input.username, emailTaken ? 'email-in-use' : 'username-in-use'));
  return view(deps, {
    id: newId(deps.random), username: input.username, name: input.name ?? input.username, roles: ['user'], active: true,
    requirePasswordChange: false, createdAt: deps.clock.now(), passwordHash: null, emails: [{ address: input.email, verified: false }],
    email2faEnabled: false, totpEnabled: false, totpSecret: null, totpPendingSecret: null, totpLastStep: null,
  });
}

export const registerOperation = defineOperation({
  name: 'users.register',
  summary: 'Create an account for oneself; a verification link goes to the email.',
  auth: 'none',
  uses: ['accounts', 'users', 'passwords', 'mailer', 'random', 'clock', 'settings', 'limits', 'audit'],
  secondFactor: { kind: 'none' },
  // Rocket.Chat's schema: also `secret` (a registration-form secret), `reason` and customFields.
  input: z.object({
    username: s.username, email: s.email, pass: s.plainPassword, name: s.nullable(s.displayName),
    secret: s.ignoredText, reason: s.ignoredText, customFields: s.ignoredObject,
  }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.register', reply: (user) => ({ body: { user, success: true } }) },
  ddp: { name: 'registerUser', params: (p) => p[0] },
  async handler(ctx, input) {
    const { deps } = ctx;
    // Counted before the name is looked at: an "in use" answer costs as much as a sign-up.
    await takeAccountMail(deps, 'register', input.email, clientOf(ctx));
    let user: User;
    try {
      user = await deps.accounts.create({ username: input.username, name: input.name, email: input.email, password: { plain: input.pass } });
    } catch (e) {
      const inUse = isTwofoldError(e) && (e.code === 'error-username-in-use' || e.code === 'error-email-in-use');
      if (inUse && deps.settings.maskUnknownUsers) return maskedSignUp(deps, input);
      throw e;
    }
    await deps.accounts.sendVerificationMail(user, input.email);
    return view(deps, user);
  },
});

export const createUserOperation = defineOperation({
  name: 'users.create',
  summary: 'Admin: create a user.',
  auth: 'admin',
  permissionError: () => new TwofoldError('error-action-not-allowed', { action: 'Adding_user' }, 'Adding user is not allowed'),
  uses: ['accounts', 'settings'],
  secondFactor: { kind: 'ask' },
  input: z.object({
    username: s.username, email: s.email, password: s.plainPassword, name: s.displayName.optional(),
    roles: z.array(z.enum(['user', 'admin'])).max(2).optional(), verified: s.nullable(z.boolean()),
    bio: s.ignoredText, nickname: s.ignoredText, statusText: s.ignoredText, joinDefaultChannels: s.ignoredFlag,
    sendWelcomeEmail: s.ignoredFlag, customFields: s.ignoredObject, fields: s.ignoredText, freeSwitchExtension: s.ignoredText,
  }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.create', reply: (user) => ({ body: { user, success: true } }) },
  async handler(ctx, input) {
    const { accounts } = ctx.deps;
    const user = await accounts.create({
      username: input.username, name: input.name, email: input.email, password: { plain: input.password },
      verified: input.verified, roles: input.roles,
    });
    if (!input.verified) await accounts.sendVerificationMail(user, input.email);
    return view(ctx.deps, user);
  },
});

const userUpdateData = z.object({
  email: s.email.optional(),
  name: s.displayName.optional(),
  username: s.username.optional(),
  password: s.plainPassword.optional(),
  active: z.boolean().optional(),
  roles: z.array(z.enum(['user', 'admin'])).max(2).optional(),
  verified: z.boolean().optional(),
  requirePasswordChange: z.boolean().optional(),
  bio: s.ignoredText, nickname: s.ignoredText, statusText: s.ignoredText, status: s.ignoredText,
  joinDefaultChannels: s.ignoredFlag, sendWelcomeEmail: s.ignoredFlag, customFields: s.ignoredObject,
}).strict();

export const updateUserOperation = defineOperation({
  name: 'users.update',
  summary: 'Admin: edit a user (the seeds\' password-fallback example). Asks for a second factor.',
  auth: 'admin',
  permissionError: () => new TwofoldError('error-action-not-allowed', { action: 'Editing_user' }, 'Editing user is not allowed'),
  uses: ['accounts', 'users', 'passwords', 'clock', 'settings', 'tokens', 'devices'],
  secondFactor: { kind: 'ask' },
  input: z.object({ userId: s.id, data: userUpdateData, confirmRelinquish: s.ignoredFlag }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.update', reply: (user) => ({ body: { user, success: true } }) },
  ddp: { name: 'twofold:updateUser', params: (p) => p[0] },
  async handler(ctx, { userId, data }) {
    const { deps } = ctx;
    const user = await reload(deps, userId);
    if (data.username !== undefined) await changeUsername(deps, user, data.username);
    if (data.email !== undefined) await changeEmail(deps, user, data.email, data.verified ?? false);
    else if (data.verified !== undefined && user.emails[0]) await deps.users.setEmailVerified(user.id, user.emails[0].address, data.verified);
    await deps.users.update(user.id, {
      name: data.name,
      active: data.active,
      roles: data.roles,
      requirePasswordChange: data.requirePasswordChange,
      passwordHash: await newPasswordHash(deps, data.password),
    });
    if (data.password !== undefined || data.active === false) await revokeCredentials(deps, user.id, data.active === false ? undefined : ctx);
    return view(deps, await reload(deps, user.id));
  },
});

export const deleteUserOperation = defineOperation({
  name: 'users.delete',
  summary: 'Admin: delete a user and everything of theirs. Asks for a second factor.',
  auth: 'admin',
  // Rocket.Chat: REST checks the route's permission (error-unauthorized), the DDP method says error-not-allowed.
  permissionError: (transport) => new TwofoldError(transport === 'rest' ? 'error-unauthorized' : 'error-not-allowed'),
  uses: ['users'],
  secondFactor: { kind: 'ask' },
  input: z.object({ userId: s.id, confirmRelinquish: z.boolean().optional() }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.delete', reply: () => ({ body: { success: true } }) },
  ddp: { name: 'deleteUser', params: (p) => ({ userId: p[0] }) },
  async handler(ctx, { userId }): Promise<true> {
    if (!await ctx.deps.users.delete(userId)) throw new TwofoldError('error-invalid-user');
    return true;
  },
});

export const listUsersOperation = defineOperation({
  name: 'users.list',
  summary: 'Admin: every user (public view).',
  auth: 'admin',
  permissionError: () => new TwofoldError('error-unauthorized'),
  uses: ['users', 'settings'],
  secondFactor: { kind: 'none' },
  input: s.noInput,
  rest: { method: 'GET', path: '/api/v1/users.list', reply: (users: unknown[]) => ({ body: { users, count: users.length, success: true } }) },
  async handler(ctx) {
    return (await ctx.deps.users.list()).map((u) => view(ctx.deps, u));
  },
});

// Rocket.Chat's schema marks every field nullable and also allows the profile extras.
const ownProfileData = z.object({
  email: s.nullable(s.email),
  name: s.nullable(s.displayName),
  username: s.nullable(s.username),
  newPassword: s.nullable(s.plainPassword),
  currentPassword: s.nullable(z.string().max(256)),
  nickname: s.ignoredText, bio: s.ignoredText, statusText: s.ignoredText, statusType: s.ignoredText,
}).strict();

/** Changing the email or the password always asks; a name change is rememberable (spec §5). */
const ownProfilePolicy = (_deps: unknown, input: { data: z.infer<typeof ownProfileData> }) =>
  input.data.email !== undefined || input.data.newPassword !== undefined ? 'always' as const : 'ask' as const;

const OWN_PROFILE_USES = ['accounts', 'users', 'passwords', 'clock', 'settings', 'tokens', 'devices', 'limits', 'audit'] as const;

async function updateOwnProfile(ctx: UserContext<(typeof OWN_PROFILE_USES)[number]>, { data }: { data: z.infer<typeof ownProfileData> }) {
  const { deps, user } = ctx;
  // Nothing to change: the user this call authenticated with, read moments ago, is the answer.
  if (data.username === undefined && data.email === undefined && data.name === undefined && data.newPassword === undefined) return view(deps, user);
  if (data.username !== undefined) await changeUsername(deps, user, data.username);
  const email = data.email;
  if (email !== undefined && email.toLowerCase() !== user.emails[0]?.address.toLowerCase()) {
    await changeEmail(deps, user, email, false, () => takeAccountMail(deps, 'verify-mail', email, clientOf(ctx), user.id));
  }
  await deps.users.update(user.id, {
    name: data.name,
    passwordHash: await newPasswordHash(deps, data.newPassword),
    requirePasswordChange: data.newPassword !== undefined ? false : undefined,
  });
  // A new password ends every other session and every personal access token; this login stays.
  if (data.newPassword !== undefined) await revokeCredentials(deps, user.id, ctx);
  return view(deps, await reload(deps, user.id));
}

export const updateOwnBasicInfoOperation = defineOperation({
  name: 'users.updateOwnBasicInfo',
  summary: 'Change one\'s own name, username, email or password. Email and password changes always ask for a second factor.',
  auth: 'user',
  authError: 'error-invalid-user',
  uses: OWN_PROFILE_USES,
  secondFactor: {
    kind: 'depends',
    choose: ownProfilePolicy,
    // Rocket.Chat's `typedPassword`: the SHA-256 of the current password as the password second factor.
    fromInput: ({ data }) => (data.currentPassword ? { code: data.currentPassword, method: 'password' } : undefined),
  },
  input: z.object({ data: ownProfileData, customFields: s.ignoredObject }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.updateOwnBasicInfo', reply: (user) => ({ body: { user, success: true } }) },
  ddp: {
    name: 'saveUserProfile',
    // Rocket.Chat's client sends (settings, customFields) with `realname` for the name.
    params: (p) => {
      const settings = (p[0] ?? {}) as Record<string, unknown>;
      if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) return { data: settings };
      const { realname, typedPassword, ...rest } = settings;
      const data: Record<string, unknown> = { ...rest };
      if (realname !== undefined) data.name = realname;
      if (typedPassword !== undefined) data.currentPassword = typedPassword;
      return { data };
    },
    reply: () => true,
  },
  handler: updateOwnProfile,
});

export const sendConfirmationEmailOperation = defineOperation({
  name: 'users.sendConfirmationEmail',
  allowedBeforeEnrolment: true,
  summary: 'Mail a new verification link for one of the caller\'s addresses.',
  auth: 'user',
  uses: ['accounts', 'limits', 'settings', 'clock', 'audit'],
  secondFactor: { kind: 'none' },
  input: z.object({ email: s.email }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.sendConfirmationEmail', reply: () => ({ body: { success: true } }) },
  ddp: { name: 'sendConfirmationEmail', params: (p) => ({ email: p[0] }) },
  async handler(ctx, { email }): Promise<true> {
    const user = ctx.user;
    const entry = user.emails.find((e) => e.address.toLowerCase() === email.toLowerCase());
    if (!entry) throw new TwofoldError('error-invalid-email');
    if (!entry.verified) {
      await takeAccountMail(ctx.deps, 'verify-mail', entry.address, clientOf(ctx), user.id);
      await ctx.deps.accounts.sendVerificationMail(user, entry.address);
    }
    return true;
  },
});

export const verifyEmailOperation = defineOperation({
  name: 'users.verifyEmail',
  allowedBeforeEnrolment: true,
  summary: 'Mark an address verified with the token from the verification mail.',
  auth: 'none',
  uses: ['accounts'],
  secondFactor: { kind: 'none' },
  input: z.object({ token: z.string().min(1).max(256) }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.verifyEmail', reply: (r: { email: string; verified: boolean }) => ({ body: { ...r, success: true } }) },
  ddp: { name: 'verifyEmail', params: (p) => ({ token: p[0] }) },
  async handler(ctx, { token }) {
    const { address } = await ctx.deps.accounts.verifyEmailToken(token);
    return { email: address, verified: true };
  },
});

export const accountOperations = [
  registerOperation, createUserOperation, updateUserOperation, deleteUserOperation, listUsersOperation,
  updateOwnBasicInfoOperation, sendConfirmationEmailOperation, verifyEmailOperation,
];
