import { z } from 'zod';
import type { User } from '../core/accounts.ts';
import { TwofoldError } from '../core/errors.ts';
import { newToken } from '../core/random.ts';
import type { Deps } from './deps.ts';
import { defineOperation } from './registry.ts';
import * as s from './schemas.ts';

// Personal access tokens (Rocket.Chat's users.*PersonalAccessToken / personalAccessTokens:*):
// long-lived tokens for scripts that authenticate with X-User-Id/X-Auth-Token like a login.
// Creating, renewing and removing one asks for a second factor (spec §5); a token created
// with bypassTwoFactor then skips the operations that merely ask (invoke.ts), as in
// Rocket.Chat, but never those that always ask. Creating and renewing always ask: a token
// outlives the session, so a remembered success or the new-account grace is not enough.

/** How much of the token the list shows, so a user can tell tokens apart. */
const LAST_PART_LENGTH = 6;

// An empty name counts as a missing one, as in Rocket.Chat.
const tokenName = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().max(128).transform((v) => v.trim()));

async function findPersonalToken(deps: Pick<Deps, 'tokens'>, user: User, name: string) {
  return (await deps.tokens.personalTokens(user.id)).find((t) => t.name === name) ?? null;
}

/** What issuing a token uses. */
const ISSUE_USES = ['tokens', 'keys', 'random', 'clock'] as const;

async function issuePersonalToken(deps: Pick<Deps, (typeof ISSUE_USES)[number]>, user: User, name: string, bypass2fa: boolean): Promise<string> {
  const token = newToken(deps.random);
  try {
    await deps.tokens.insert({
      tokenHash: deps.keys.hashToken(token), userId: user.id, kind: 'pat', name, bypass2fa,
      createdAt: deps.clock.now(), expiresAt: null, lastTokenPart: token.slice(-LAST_PART_LENGTH),
    });
  } catch (e) {
    // Two creations racing for one name: the unique index decides.
    if (/unique|duplicate/i.test(String((e as Error).message))) throw new TwofoldError('error-token-already-exists');
    throw e;
  }
  return token;
}

export const generatePersonalAccessTokenOperation = defineOperation({
  name: 'users.generatePersonalAccessToken',
  summary: 'Create a named personal access token for the caller; returned once. Always asks for a second factor.',
  auth: 'user',
  authError: 'not-authorized',
  uses: ISSUE_USES,
  // The password confirms even where the fallback setting is off: never nothing to ask.
  secondFactor: { kind: 'always', passwordAlways: true },
  // Rocket.Chat validates no schema here and its clients send more (e.g. `loginToken`): extra fields are ignored.
  input: z.object({ tokenName, bypassTwoFactor: s.nullable(z.boolean()) }),
  rest: { method: 'POST', path: '/api/v1/users.generatePersonalAccessToken' },
  ddp: { name: 'personalAccessTokens:generateToken', reply: (r: { token: string }) => r.token },
  async handler(ctx, input): Promise<{ token: string }> {
    const user = ctx.user;
    if (await findPersonalToken(ctx.deps, user, input.tokenName)) throw new TwofoldError('error-token-already-exists');
    return { token: await issuePersonalToken(ctx.deps, user, input.tokenName, input.bypassTwoFactor ?? false) };
  },
});

export const regeneratePersonalAccessTokenOperation = defineOperation({
  name: 'users.regeneratePersonalAccessToken',
  summary: 'Replace a personal access token by a new one with the same name and bypass flag. Always asks for a second factor.',
  auth: 'user',
  authError: 'not-authorized',
  uses: ISSUE_USES,
  // The password confirms even where the fallback setting is off: never nothing to ask.
  secondFactor: { kind: 'always', passwordAlways: true },
  input: z.object({ tokenName }),
  rest: { method: 'POST', path: '/api/v1/users.regeneratePersonalAccessToken' },
  ddp: { name: 'personalAccessTokens:regenerateToken', reply: (r: { token: string }) => r.token },
  async handler(ctx, input): Promise<{ token: string }> {
    const user = ctx.user;
    const existing = await findPersonalToken(ctx.deps, user, input.tokenName);
    if (!existing || !await ctx.deps.tokens.removePersonalToken(user.id, input.tokenName)) {
      throw new TwofoldError('error-token-not-found');
    }
    return { token: await issuePersonalToken(ctx.deps, user, input.tokenName, existing.bypass2fa) };
  },
});

export const removePersonalAccessTokenOperation = defineOperation({
  name: 'users.removePersonalAccessToken',
  summary: 'Revoke a personal access token by name. Asks for a second factor.',
  auth: 'user',
  authError: 'not-authorized',
  uses: ['tokens'],
  secondFactor: { kind: 'ask' },
  input: z.object({ tokenName }),
  rest: { method: 'POST', path: '/api/v1/users.removePersonalAccessToken', reply: () => ({ body: { success: true } }) },
  ddp: { name: 'personalAccessTokens:removeToken' },
  async handler(ctx, input): Promise<true> {
    if (!await ctx.deps.tokens.removePersonalToken(ctx.user.id, input.tokenName)) throw new TwofoldError('error-token-not-found');
    return true;
  },
});

export const listPersonalAccessTokensOperation = defineOperation({
  name: 'users.getPersonalAccessTokens',
  summary: 'The caller\'s personal access tokens: name, creation date, last characters and bypass flag (never the token).',
  auth: 'user',
  authError: 'not-authorized',
  uses: ['tokens'],
  secondFactor: { kind: 'none' },
  input: s.noInput,
  rest: { method: 'GET', path: '/api/v1/users.getPersonalAccessTokens', reply: (tokens) => ({ body: { tokens, success: true } }) },
  async handler(ctx) {
    return (await ctx.deps.tokens.personalTokens(ctx.user.id)).map((t) => ({
      name: t.name, createdAt: new Date(t.createdAt).toISOString(), lastTokenPart: t.lastTokenPart ?? '', bypassTwoFactor: t.bypass2fa,
    }));
  },
});

export const personalTokenOperations = [
  generatePersonalAccessTokenOperation, regeneratePersonalAccessTokenOperation,
  removePersonalAccessTokenOperation, listPersonalAccessTokensOperation,
];
