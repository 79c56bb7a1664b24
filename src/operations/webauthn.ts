// Passkeys and security keys (issue 16 §1): registering one (options, then the browser's
// answer), listing and removing them. Once registered they are the second-factor method
// `webauthn` (src/core/twofactor/methods/webauthn.ts).
import {
  generateRegistrationOptions, verifyRegistrationResponse,
  type AuthenticatorTransport, type PublicKeyCredentialCreationOptionsJSON, type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { z } from 'zod';
import { TwofoldError } from '../core/errors.ts';
import { newId } from '../core/random.ts';
import { recordAudit } from './shared/audit.ts';
import { revokeCredentials } from './shared/credentials.ts';
import { defineOperation, type UserContext } from './registry.ts';
import * as s from './schemas.ts';

/** Largest registration answer looked at: the browser's JSON with `none` attestation is about 1 KiB. */
export const MAX_REGISTRATION_LENGTH = 16_384;

const b64url = z.string().min(1).max(MAX_REGISTRATION_LENGTH).regex(/^[A-Za-z0-9_-]+=*$/, 'must be base64url');

const registrationResponse = z.object({
  id: b64url.max(1024),
  rawId: b64url.max(1024),
  type: z.literal('public-key'),
  response: z.looseObject({
    clientDataJSON: b64url,
    attestationObject: b64url,
    transports: z.array(z.string().max(32)).max(16).optional(),
  }),
  clientExtensionResults: z.record(z.string(), z.unknown()).optional().default({}),
  authenticatorAttachment: z.string().max(32).optional(),
}).refine((r) => JSON.stringify(r).length <= MAX_REGISTRATION_LENGTH, `must be at most ${MAX_REGISTRATION_LENGTH} characters as JSON`);

export const passkeyName = z.string().min(1).max(64).refine((v) => v.trim() !== '', 'must not be blank').transform((v) => v.trim());

const passkeysOn = (ctx: UserContext<'settings'>) => {
  if (!ctx.deps.settings.webauthnEnabled) throw new TwofoldError('error-not-allowed', undefined, 'Passkeys are turned off');
};

const limitError = (ctx: UserContext<'settings'>) => new TwofoldError('error-webauthn-limit', { max: ctx.deps.settings.webauthnMaxCredentials });

export interface PasskeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  transports: string[];
}

export const registerOptionsOperation = defineOperation({
  name: 'users.webauthn.registerOptions',
  allowedBeforeEnrolment: true,
  summary: 'Start registering a passkey or security key: the options for the browser\'s `navigator.credentials.create`. Asks for a second factor.',
  auth: 'user',
  authError: 'not-authorized',
  // A new passkey is a new way in: a stolen session must prove a factor before adding one.
  uses: ['webauthn', 'settings', 'random', 'clock'],
  secondFactor: { kind: 'ask' },
  input: s.noInput,
  rest: { method: 'POST', path: '/api/v1/users.webauthn.registerOptions' },
  ddp: { name: 'twofold:webauthnRegisterOptions' },
  // One passkey too many is told before a factor is asked for, not after.
  async precondition(ctx) {
    passkeysOn(ctx);
    if ((await ctx.deps.webauthn.store.list(ctx.user.id)).length >= ctx.deps.settings.webauthnMaxCredentials) throw limitError(ctx);
  },
  async handler(ctx): Promise<{ options: PublicKeyCredentialCreationOptionsJSON }> {
    const { deps, user } = ctx;
    const w = deps.webauthn;
    const existing = await w.store.list(user.id);
    const options = await generateRegistrationOptions({
      rpName: w.rpName,
      rpID: w.rpId,
      userName: user.username,
      userDisplayName: user.name,
      userID: new TextEncoder().encode(user.id),
      challenge: new Uint8Array(deps.random.bytes(32)),
      timeout: deps.settings.webauthnChallengeTtl * 1000,
      attestationType: 'none',
      excludeCredentials: existing.map((k) => ({ id: k.credentialId, transports: k.transports as AuthenticatorTransport[] })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    const now = deps.clock.now();
    await w.store.addChallenge(user.id, 'register', options.challenge, now + deps.settings.webauthnChallengeTtl * 1000, now, w.maxLiveChallenges);
    return { options };
  },
});

export const registerOperation = defineOperation({
  name: 'users.webauthn.register',
  allowedBeforeEnrolment: true,
  summary: 'Finish registering a passkey with the browser\'s answer and a name; other sessions end. Its challenge came from registerOptions, which asked for the second factor.',
  auth: 'user',
  authError: 'not-authorized',
  uses: ['webauthn', 'settings', 'random', 'clock', 'tokens', 'devices', 'audit'],
  secondFactor: { kind: 'none' },
  input: z.object({ name: passkeyName, response: registrationResponse }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.webauthn.register' },
  ddp: { name: 'twofold:webauthnRegister' },
  precondition: passkeysOn,
  async handler(ctx, { name, response }): Promise<{ passkey: PasskeyView }> {
    const { deps, user } = ctx;
    const w = deps.webauthn;
    const now = deps.clock.now();
    let verified;
    try {
      verified = await verifyRegistrationResponse({
        response: response as RegistrationResponseJSON,
        expectedChallenge: (challenge) => w.store.consumeChallenge(user.id, 'register', challenge, now),
        expectedOrigin: w.origin,
        expectedRPID: w.rpId,
        requireUserVerification: false,
      });
    } catch {
      throw new TwofoldError('error-webauthn-registration-failed');
    }
    if (!verified.verified) throw new TwofoldError('error-webauthn-registration-failed');
    const { credential } = verified.registrationInfo;
    const passkey = {
      id: newId(deps.random), userId: user.id, credentialId: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'), counter: credential.counter,
      transports: (credential.transports ?? []).slice(0, 16), name, createdAt: now, lastUsedAt: null,
    };
    if (!await w.store.add(passkey, deps.settings.webauthnMaxCredentials)) {
      throw limitError(ctx);
    }
    // Whoever else holds a session or a token got it without this factor: they log in again.
    await revokeCredentials(deps, user.id, ctx);
    await recordAudit(ctx, { event: 'method-enabled', userId: user.id, method: 'webauthn' });
    return { passkey: view(passkey) };
  },
});

const view = (p: { id: string; name: string; createdAt: number; lastUsedAt: number | null; transports: string[] }): PasskeyView => ({
  id: p.id, name: p.name, createdAt: new Date(p.createdAt).toISOString(),
  lastUsedAt: p.lastUsedAt === null ? null : new Date(p.lastUsedAt).toISOString(), transports: p.transports,
});

export const listOperation = defineOperation({
  name: 'users.webauthn.list',
  allowedBeforeEnrolment: true,
  summary: 'The caller\'s passkeys and security keys: name, when added and last used.',
  auth: 'user',
  authError: 'not-authorized',
  uses: ['webauthn'],
  secondFactor: { kind: 'none' },
  input: s.noInput,
  rest: { method: 'GET', path: '/api/v1/users.webauthn.list' },
  ddp: { name: 'twofold:webauthnList' },
  async handler(ctx): Promise<{ passkeys: PasskeyView[] }> {
    return { passkeys: (await ctx.deps.webauthn.store.list(ctx.user.id)).map(view) };
  },
});

export const removeOperation = defineOperation({
  name: 'users.webauthn.remove',
  summary: 'Remove one of the caller\'s passkeys; other sessions end. Always asks for a second factor.',
  auth: 'user',
  authError: 'not-authorized',
  uses: ['webauthn', 'tokens', 'devices', 'audit'],
  secondFactor: { kind: 'always' },
  input: z.object({ id: s.id }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.webauthn.remove', reply: () => ({ body: { success: true } }) },
  ddp: { name: 'twofold:webauthnRemove' },
  async precondition(ctx, { id }) {
    if (!(await ctx.deps.webauthn.store.list(ctx.user.id)).some((k) => k.id === id)) throw new TwofoldError('error-webauthn-not-found');
  },
  async handler(ctx, { id }): Promise<true> {
    const { deps, user } = ctx;
    if (!await deps.webauthn.store.remove(user.id, id)) throw new TwofoldError('error-webauthn-not-found');
    await revokeCredentials(deps, user.id, ctx);
    await recordAudit(ctx, { event: 'method-disabled', userId: user.id, method: 'webauthn' });
    return true;
  },
});

export const webauthnOperations = [registerOptionsOperation, registerOperation, listOperation, removeOperation];
