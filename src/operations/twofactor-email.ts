import { z } from 'zod';
import { maskEmail, verifiedEmails } from '../core/accounts.ts';
import { TwofoldError } from '../core/errors.ts';
import { isEmailEnabled, sendNewEmailCode } from '../core/twofactor/email-codes.ts';
import { forClient } from '../core/twofactor/events.ts';
import { clientOf, recordAudit } from './shared/audit.ts';
import { takeMaskedCodeSend } from './shared/limits.ts';
import { revokeCredentials } from './shared/credentials.ts';
import { defineOperation } from './registry.ts';
import * as s from './schemas.ts';

// The seeds' email-code calls: users.2fa.sendEmailCode / sendEmailCode,
// users.2fa.enableEmail / 2fa:enable-email, users.2fa.disableEmail / 2fa:disable-email.

export const sendEmailCodeOperation = defineOperation({
  name: 'users.2fa.sendEmailCode',
  allowedBeforeEnrolment: true,
  summary: 'Mail a new code to the verified addresses of a user (no login needed); returns where it went.',
  auth: 'optional',
  uses: ['users', 'settings', 'limits', 'clock', 'audit', 'engineDeps', 'log'],
  secondFactor: { kind: 'none' },
  // No body, or an empty name, is a missing parameter as in Rocket.Chat (error-parameter-required).
  // Rocket.Chat validates no schema here: fields other than emailOrUsername are ignored.
  input: z.preprocess((v) => (v === undefined ? {} : v), z.object({
    emailOrUsername: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), s.emailOrUsername),
  })),
  rest: { method: 'POST', path: '/api/v1/users.2fa.sendEmailCode', reply: (emails) => ({ body: { emails, success: true } }) },
  ddp: { name: 'sendEmailCode', params: (p) => ({ emailOrUsername: p[0] }) },
  async handler(ctx, { emailOrUsername }): Promise<string[]> {
    const { deps } = ctx;
    const user = await deps.users.byEmailOrUsername(emailOrUsername);
    if (deps.settings.maskUnknownUsers && (!user || ctx.user?.id !== user.id)) {
      // A stranger learns nothing: the same empty answer and the same limits, whether the
      // name is unknown, known without email codes, or known with them (then a code goes out).
      await takeMaskedCodeSend(deps, user?.id ?? null, emailOrUsername, clientOf(ctx));
      if (user && isEmailEnabled(user, deps.settings)) {
        // Not waited for (the limit above is already counted): storing and mailing the code
        // would otherwise make the answer slower for a name that has an inbox.
        sendNewEmailCode({ ...forClient(deps.engineDeps, clientOf(ctx)), limits: undefined }, user)
          .catch((err: unknown) => deps.log.error({ err }, 'email code not sent'));
      }
      return [];
    }
    if (!user) throw new TwofoldError('error-invalid-user', undefined, 'Invalid user');
    if (!isEmailEnabled(user, deps.settings)) return [];
    const { addresses } = await sendNewEmailCode(forClient(deps.engineDeps, clientOf(ctx)), user);
    // Only the user themself may see their addresses whole (spec §4).
    return ctx.user?.id === user.id ? addresses : addresses.map(maskEmail);
  },
});

export const enableEmailOperation = defineOperation({
  name: 'users.2fa.enableEmail',
  allowedBeforeEnrolment: true,
  summary: 'Turn on email codes as a second factor for the caller (needs a verified email).',
  auth: 'user',
  authError: 'not-authorized',
  uses: ['users', 'tokens', 'devices', 'audit'],
  secondFactor: { kind: 'none' },
  input: s.ignoredBody,
  rest: { method: 'POST', path: '/api/v1/users.2fa.enableEmail', reply: () => ({ body: { success: true } }) },
  ddp: { name: '2fa:enable-email' },
  precondition(ctx) {
    const user = ctx.user;
    if (verifiedEmails(user).length === 0) {
      throw new TwofoldError('error-invalid-user', undefined, 'A verified email is required to enable email two-factor authentication');
    }
    if (user.email2faEnabled) throw new TwofoldError('error-2fa-already-enabled', undefined, 'Two-factor authentication by email is already enabled');
  },
  async handler(ctx): Promise<true> {
    const { deps, user } = ctx;
    await deps.users.update(user.id, { email2faEnabled: true });
    await revokeCredentials(deps, user.id, ctx);
    await recordAudit(ctx, { event: 'method-enabled', userId: user.id, method: 'email' });
    return true;
  },
});

export const disableEmailOperation = defineOperation({
  name: 'users.2fa.disableEmail',
  summary: 'Turn off email codes for the caller. Always asks for a second factor.',
  auth: 'user',
  authError: 'not-authorized',
  uses: ['users', 'twoFactorStore', 'tokens', 'devices', 'audit'],
  secondFactor: { kind: 'always' },
  input: s.ignoredBody,
  rest: { method: 'POST', path: '/api/v1/users.2fa.disableEmail', reply: () => ({ body: { success: true } }) },
  ddp: { name: '2fa:disable-email' },
  // Nothing to turn off: said at once, rather than after asking for a code.
  precondition(ctx) {
    if (!ctx.user.email2faEnabled) throw new TwofoldError('error-2fa-not-enabled');
  },
  async handler(ctx): Promise<true> {
    const { deps, user } = ctx;
    await deps.users.update(user.id, { email2faEnabled: false });
    await deps.twoFactorStore.dropEmailCodes(user.id);
    await revokeCredentials(deps, user.id, ctx);
    await recordAudit(ctx, { event: 'method-disabled', userId: user.id, method: 'email' });
    return true;
  },
});

export const twoFactorEmailOperations = [sendEmailCodeOperation, enableEmailOperation, disableEmailOperation];
