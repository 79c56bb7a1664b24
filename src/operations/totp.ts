import QRCode from 'qrcode';
import { z } from 'zod';
import { verifiedEmails, type User } from '../core/accounts.ts';
import { TwofoldError } from '../core/errors.ts';
import { restErrorBody } from '../transport/rest/errors.ts';
import { hashBackupCode, newBackupCodes } from '../core/twofactor/backup-codes.ts';
import { codeFromNumber, MAX_CODE_LENGTH } from '../core/twofactor/answer.ts';
import { newTotpSecret, otpauthUrl } from '../core/twofactor/totp.ts';
import { recordAudit } from './shared/audit.ts';
import { revokeCredentials } from './shared/credentials.ts';
import type { Deps } from './deps.ts';
import { defineOperation, type SecondFactorPassed, type UserContext } from './registry.ts';
import * as s from './schemas.ts';

// The authenticator app (spec §3.7): enrolment in two steps, backup codes, turning it off,
// and the admin reset. Rocket.Chat's `2fa:*` methods take the authenticator's code as
// their argument; that argument is the check for disable and regenerateCodes (their
// `code-argument` rule, applied by invoke), so nothing is asked twice. Someone who lost the
// phone and has email codes on names the email method instead and answers with a mailed code
// (`byEmail`); the audit event then says `via: 'email'`.

// Some clients send the digits as a JSON number. A preprocess rather than a union keeps a
// missing code reported as `error-parameter-required`.
const authenticatorCode = z.preprocess(codeFromNumber, z.string().min(1).max(MAX_CODE_LENGTH));
const codeInput = z.object({ code: authenticatorCode }).strict();
/** Turning the app off or renewing its codes: the code may be left out when an emailed code stands in for it (`byEmail`). */
const codeOrEmailInput = z.preprocess((v) => v ?? {}, z.object({ code: authenticatorCode.optional() }).strict());
const codeParam = (p: unknown[]) => ({ code: p[0] });

const invalidTotp = () => new TwofoldError('invalid-totp');

/** Turning off, renewing or counting codes of an app that is not on: refused before any code is looked at. */
const totpMustBeOn = (ctx: UserContext) => {
  if (!ctx.user.totpEnabled) throw invalidTotp();
};

function freshCodes(deps: Pick<Deps, 'random' | 'keys'>, user: User): { codes: string[]; hashes: string[] } {
  const codes = newBackupCodes(deps.random);
  return { codes, hashes: codes.map((c) => hashBackupCode(deps.keys, user.id, c)) };
}

/** A wrong or missing code: Rocket.Chat answers these calls with a falsy result, not an error. */
type Refusal = { refused: TwofoldError };
const refusal = (refused: TwofoldError): Refusal => ({ refused });

/** REST has no falsy success: a refusal is the engine's own error. */
const refusalReply = (r: Refusal) => ({ status: r.refused.status, body: restErrorBody(r.refused) });

/** The audit trail tells an emailed code from the app's: the lost-phone way is worth spotting. */
const viaDetails = (passed: SecondFactorPassed) =>
  (passed.outcome?.passed === 'verified' && passed.outcome.method === 'email' ? { via: 'email' } : undefined);

type DisableResult = Refusal | { disabled: true };
type RegenerateResult = Refusal | { codes: string[] };

export const enableTotpOperation = defineOperation({
  name: 'users.totp.enable',
  allowedBeforeEnrolment: true,
  summary: 'Start enrolling an authenticator app: a new secret, its otpauth:// URL and a QR code. Nothing is on until validated. Asks for a second factor.',
  auth: 'user',
  authError: 'not-authorized',
  // Enrolment ends the user's other sessions and makes the app the first method: a stolen
  // session must not be able to lock the owner out with an app of its own.
  uses: ['settings', 'random', 'keys', 'twoFactorStore'],
  secondFactor: { kind: 'ask' },
  input: s.noInput,
  rest: { method: 'POST', path: '/api/v1/users.totp.enable' },
  ddp: { name: '2fa:enable' },
  precondition(ctx) {
    const user = ctx.user;
    if (!ctx.deps.settings.totpEnabled) throw new TwofoldError('error-not-allowed', undefined, 'Authenticator apps are turned off');
    // As Rocket.Chat: every address verified (and here at least one), checked before "already on".
    if (user.emails.some((e) => !e.verified) || verifiedEmails(user).length === 0) {
      throw new TwofoldError('error-invalid-user', { method: '2fa:enable' }, 'You need to verify your emails before setting up 2FA');
    }
    if (user.totpEnabled) throw new TwofoldError('error-2fa-already-enabled');
  },
  async handler(ctx): Promise<{ secret: string; url: string; qrCode: string }> {
    const { deps, user } = ctx;
    const secret = newTotpSecret(deps.random);
    if (!await deps.twoFactorStore.startTotpEnrolment(user.id, deps.keys.encrypt(secret, deps.random))) {
      throw new TwofoldError('error-2fa-already-enabled');
    }
    const url = otpauthUrl(secret, user.username, deps.settings.totpIssuer);
    return { secret, url, qrCode: await QRCode.toDataURL(url, { errorCorrectionLevel: 'M' }) };
  },
});

export const validateTotpOperation = defineOperation({
  name: 'users.totp.validate',
  allowedBeforeEnrolment: true,
  summary: 'Finish enrolment with a code from the app: TOTP is on, 12 backup codes are returned once, other sessions end.',
  auth: 'user',
  authError: 'not-authorized',
  // An enrolment code is guessed like any other: it spends the same failure budget (and
  // counts towards a suspension), and too many wrong ones burn the pending secret.
  uses: ['twoFactorStore', 'settings', 'random', 'keys', 'tokens', 'devices', 'audit'],
  secondFactor: {
    kind: 'code-argument',
    of: 'enrolment',
    code: ({ code }) => code,
    async wrong(ctx) {
      const { deps, user } = ctx;
      if (await deps.twoFactorStore.enrolmentFailed(user.id, user.totpPendingSecret!, deps.settings.totpEnrolMaxAttempts)) {
        await recordAudit(ctx, { event: 'lockout', userId: user.id, method: 'totp', details: { reason: 'enrolment-attempts', enrolment: true } });
      }
    },
    // Rocket.Chat answers a wrong enrolment code with invalid-totp; limits keep their own errors.
    refused: () => { throw invalidTotp(); },
  },
  input: codeInput,
  rest: { method: 'POST', path: '/api/v1/users.totp.validate' },
  ddp: { name: '2fa:validateTempToken', params: codeParam },
  precondition(ctx) {
    if (ctx.user.totpEnabled || ctx.user.totpPendingSecret === null) throw invalidTotp();
  },
  async handler(ctx): Promise<{ codes: string[] }> {
    const { deps, user } = ctx;
    const pending = user.totpPendingSecret!;
    const { codes, hashes } = freshCodes(deps, user);
    if (!await deps.twoFactorStore.activateTotp(user.id, pending, hashes)) throw invalidTotp();
    // Whoever else holds a session or a token got it without this factor: they log in again.
    await revokeCredentials(deps, user.id, ctx);
    await recordAudit(ctx, { event: 'method-enabled', userId: user.id, method: 'totp' });
    return { codes };
  },
});

export const disableTotpOperation = defineOperation({
  name: 'users.totp.disable',
  summary: 'Turn the authenticator app off with one of its codes or a backup code, or (lost phone, email codes on) an emailed code with x-2fa-method email. Never remembered.',
  auth: 'user',
  authError: 'not-authorized',
  uses: ['twoFactorStore', 'tokens', 'devices', 'audit'],
  secondFactor: { kind: 'code-argument', code: ({ code }) => code, byEmail: true, refused: refusal },
  input: codeOrEmailInput,
  rest: { method: 'POST', path: '/api/v1/users.totp.disable', reply: (r: DisableResult) => ('refused' in r ? refusalReply(r) : { body: { success: true } }) },
  ddp: { name: '2fa:disable', params: codeParam, reply: (r: DisableResult) => !('refused' in r) },
  precondition: totpMustBeOn,
  async handler(ctx, _input, passed): Promise<DisableResult> {
    const { deps, user } = ctx;
    await deps.twoFactorStore.turnOffTotp(user.id);
    await revokeCredentials(deps, user.id, ctx);
    await recordAudit(ctx, { event: 'method-disabled', userId: user.id, method: 'totp', details: viaDetails(passed) });
    return { disabled: true };
  },
});

export const regenerateCodesOperation = defineOperation({
  name: 'users.totp.regenerateCodes',
  summary: 'Replace the backup codes with 12 new ones, given a code from the app or a backup code, or (email codes on) an emailed code with x-2fa-method email.',
  auth: 'user',
  authError: 'not-authorized',
  uses: ['twoFactorStore', 'random', 'keys', 'audit'],
  secondFactor: { kind: 'code-argument', code: ({ code }) => code, byEmail: true, refused: refusal },
  input: codeOrEmailInput,
  rest: { method: 'POST', path: '/api/v1/users.totp.regenerateCodes', reply: (r: RegenerateResult) => ('refused' in r ? refusalReply(r) : { body: { codes: r.codes, success: true } }) },
  ddp: { name: '2fa:regenerateCodes', params: codeParam, reply: (r: RegenerateResult) => ('refused' in r ? undefined : { codes: r.codes }) },
  precondition: totpMustBeOn,
  async handler(ctx, _input, passed): Promise<RegenerateResult> {
    const { deps, user } = ctx;
    const { codes, hashes } = freshCodes(deps, user);
    await deps.twoFactorStore.replaceBackupCodes(user.id, hashes);
    await recordAudit(ctx, { event: 'backup-codes-regenerated', userId: user.id, method: 'totp', details: viaDetails(passed) });
    return { codes };
  },
});

export const codesRemainingOperation = defineOperation({
  name: 'users.totp.codesRemaining',
  summary: 'How many unused backup codes the caller has.',
  auth: 'user',
  authError: 'not-authorized',
  uses: ['twoFactorStore'],
  secondFactor: { kind: 'none' },
  input: s.noInput,
  rest: { method: 'GET', path: '/api/v1/users.totp.codesRemaining' },
  ddp: { name: '2fa:checkCodesRemaining' },
  async handler(ctx): Promise<{ remaining: number }> {
    const user = ctx.user;
    if (!user.totpEnabled) throw invalidTotp();
    return { remaining: await ctx.deps.twoFactorStore.countBackupCodes(user.id) };
  },
});

export const resetTotpOperation = defineOperation({
  name: 'users.resetTOTP',
  summary: 'Admin: turn off a user\'s authenticator app and backup codes, and log them out everywhere. Always asks.',
  auth: 'admin',
  uses: ['users', 'twoFactorStore', 'tokens', 'devices', 'audit'],
  secondFactor: { kind: 'always', passwordAlways: true },
  input: z.object({ userId: s.id.optional(), username: s.username.optional() }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.resetTOTP', reply: () => ({ body: { success: true } }) },
  // Rocket.Chat has this on REST only; on DDP it takes the user id.
  ddp: { name: '2fa:resetTOTP', params: (p) => (typeof p[0] === 'string' ? { userId: p[0] } : p[0] ?? {}) },
  async handler(ctx, { userId, username }): Promise<true> {
    const { deps } = ctx;
    if (userId === undefined && username === undefined) {
      throw new TwofoldError('error-parameter-required', { param: 'userId' }, 'userId is required');
    }
    const target = userId !== undefined ? await deps.users.byId(userId) : await deps.users.byUsername(username!);
    if (!target) throw new TwofoldError('error-invalid-user-id');
    // The sessions and tokens of someone whose factor was reset were vouched for by that factor.
    if (await deps.twoFactorStore.turnOffTotp(target.id)) {
      await recordAudit(ctx, { event: 'method-disabled', userId: target.id, method: 'totp', details: { resetBy: ctx.user.id } });
    }
    await revokeCredentials(deps, target.id, target.id === ctx.user.id ? ctx : undefined);
    // The reset is also how an admin lifts a suspension (too many wrong codes in a row).
    if (await deps.twoFactorStore.liftSuspension(target.id)) {
      await recordAudit(ctx, { event: '2fa-recovered', userId: target.id, details: { by: 'admin', resetBy: ctx.user.id } });
    }
    return true;
  },
});

export const totpOperations = [
  enableTotpOperation, validateTotpOperation, disableTotpOperation, regenerateCodesOperation,
  codesRemainingOperation, resetTotpOperation,
];
