import { z } from 'zod';
import { maskEmail, verifiedEmails } from '../core/accounts.ts';
import { TwofoldError } from '../core/errors.ts';
import { isEmailEnabled, sendNewEmailCode } from '../core/twofactor/email-codes.ts';
import { forClient } from '../core/twofactor/events.ts';
import { clientOf, recordAudit } from '../services/audit.ts';
import { revokeCredentials } from '../services/sessions.ts';
import { defineOperation } from './registry.ts';
import * as s from './schemas.ts';

// The seeds' email-code calls: users.2fa.sendEmailCode / sendEmailCode,
// users.2fa.enableEmail / 2fa:enable-email, users.2fa.disableEmail / 2fa:disable-email.

export const sendEmailCodeOperation = defineOperation({
  name: 'users.2fa.sendEmailCode',
  summary: 'Mail a new code to the verified addresses of a user (no login needed); returns where it went.',
  auth: 'optional',
  twoFactor: 'none',
  // No body, or an empty name, is a missing parameter as in Rocket.Chat (error-parameter-required).
  input: z.preprocess((v) => (v === undefined ? {} : v), z.object({
    emailOrUsername: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), s.emailOrUsername),
  }).strict()),
  rest: { method: 'POST', path: '/api/v1/users.2fa.sendEmailCode', reply: (emails) => ({ body: { emails, success: true } }) },
  ddp: { name: 'sendEmailCode', params: (p) => ({ emailOrUsername: p[0] }) },
  async handler(ctx, { emailOrUsername }): Promise<string[]> {
    const { app } = ctx;
    const user = await app.store.users.byEmailOrUsername(emailOrUsername);
    if (!user) {
      if (app.settings.maskUnknownUsers) return [];
      throw new TwofoldError('error-invalid-user', undefined, 'Invalid user');
    }
    if (!isEmailEnabled(user, app.settings)) return [];
    const { addresses } = await sendNewEmailCode(forClient(app.twoFactor, clientOf(ctx)), user);
    // Only the user themself may see their addresses whole (spec §4).
    return ctx.user?.id === user.id ? addresses : addresses.map(maskEmail);
  },
});

export const enableEmailOperation = defineOperation({
  name: 'users.2fa.enableEmail',
  summary: 'Turn on email codes as a second factor for the caller (needs a verified email).',
  auth: 'user',
  authError: 'not-authorized',
  twoFactor: 'none',
  input: s.noInput,
  rest: { method: 'POST', path: '/api/v1/users.2fa.enableEmail', reply: () => ({ body: { success: true } }) },
  ddp: { name: '2fa:enable-email' },
  async handler(ctx): Promise<true> {
    const user = ctx.user!;
    if (verifiedEmails(user).length === 0) {
      throw new TwofoldError('error-invalid-user', undefined, 'A verified email is required to enable email two-factor authentication');
    }
    await ctx.app.store.users.update(user.id, { email2faEnabled: true });
    await revokeCredentials(ctx.app, user.id, ctx);
    await recordAudit(ctx, { event: 'method-enabled', userId: user.id, method: 'email' });
    return true;
  },
});

export const disableEmailOperation = defineOperation({
  name: 'users.2fa.disableEmail',
  summary: 'Turn off email codes for the caller. Always asks for a second factor.',
  auth: 'user',
  authError: 'not-authorized',
  twoFactor: 'always',
  input: s.noInput,
  rest: { method: 'POST', path: '/api/v1/users.2fa.disableEmail', reply: () => ({ body: { success: true } }) },
  ddp: { name: '2fa:disable-email' },
  async handler(ctx): Promise<true> {
    await ctx.app.store.users.update(ctx.user!.id, { email2faEnabled: false });
    await ctx.app.store.twoFactor.dropEmailCodes(ctx.user!.id);
    await revokeCredentials(ctx.app, ctx.user!.id, ctx);
    await recordAudit(ctx, { event: 'method-disabled', userId: ctx.user!.id, method: 'email' });
    return true;
  },
});

export const twoFactorEmailOperations = [sendEmailCodeOperation, enableEmailOperation, disableEmailOperation];
