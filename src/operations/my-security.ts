// A user's own security view (issue 14 §5, §7): their signed-in sessions with sign-out for
// each and for all others, their own recent security events, and whether they must enrol
// in a second factor before anything else (TWOFOLD_REQUIRE_2FA_FOR_ROLES).
import { z } from 'zod';
import type { App } from '../app.ts';
import type { User } from '../core/accounts.ts';
import { TwofoldError } from '../core/errors.ts';
import { sha256Hex } from '../core/secrets.ts';
import { availableMethods } from '../core/twofactor/engine.ts';
import type { Settings } from '../config/settings.ts';
import { publicDevice } from './devices.ts';
import { recordAudit } from './shared/audit.ts';
import { touchLoginToken } from '../store/session-activity.ts';
import { defineOperation, type CallContext, type OperationContext } from './registry.ts';
import * as s from './schemas.ts';

/** "Last used" is kept to the minute: finer would cost a write per call. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** What the list shows instead of the token hash: it names a session without helping to find its token. */
export const publicSessionId = (tokenHash: string) => sha256Hex(`twofold-session-id\0${tokenHash}`).slice(0, 16);

// --- enrolment required (§7) ---------------------------------------------------------------

/** True when the user's role must have a second factor and the user has none usable. */
export function mustEnrolFirst(user: User, settings: Settings): boolean {
  const roles = settings.requireTwoFactorForRoles;
  if (roles.length === 0 || !settings.twoFactorEnabled) return false;
  if (!user.roles.some((r) => roles.includes(r))) return false;
  return availableMethods(user, settings).length === 0;
}

// --- last used, off the call's path (§5) ---------------------------------------------------

const pendingTouches = new WeakMap<App, Set<Promise<void>>>();

/**
 * When this process last marked each token used. Deciding here, not from the token row, keeps
 * the session lookup on every call exactly as it was; the conditional write still makes
 * several instances write at most once a minute between them.
 */
const lastTouched = new WeakMap<App, Map<string, number>>();
/** Tokens remembered at once; the oldest is forgotten first (its next call only re-checks). */
const LAST_TOUCHED_CAPACITY = 10_000;

/** Marks the caller's login token used, at most once a minute, without the call waiting for it. */
export function noteSessionUse(ctx: OperationContext): void {
  const token = ctx.token;
  if (!token || token.kind !== 'login') return;
  const { app } = ctx;
  const now = app.clock.now();
  let seen = lastTouched.get(app);
  if (!seen) lastTouched.set(app, (seen = new Map()));
  const last = seen.get(token.tokenHash);
  if (last !== undefined && now - last < LAST_USED_RESOLUTION_MS) return;
  // Re-inserted so that the map's order is least recently touched first.
  seen.delete(token.tokenHash);
  seen.set(token.tokenHash, now);
  if (seen.size > LAST_TOUCHED_CAPACITY) seen.delete(seen.keys().next().value!);
  let pending = pendingTouches.get(app);
  if (!pending) pendingTouches.set(app, (pending = new Set()));
  const write: Promise<void> = touchLoginToken(app.store.db, token.tokenHash, now, LAST_USED_RESOLUTION_MS)
    .catch((e: unknown) => app.log.warn({ err: e }, 'could not record when a session was last used'))
    .finally(() => pending.delete(write));
  pending.add(write);
}

/** Lets a read of the sessions include the writes started before it (the caller's own included). */
export async function settleSessionWrites(app: App): Promise<void> {
  await Promise.all([...(pendingTouches.get(app) ?? [])]);
}

/** Where a fresh login token was issued (shown in the session list). */
export const recordLoginOrigin = (ctx: Pick<CallContext<'sessionActivity'>, 'deps' | 'clientAddress' | 'userAgent'>, tokenHash: string) =>
  ctx.deps.sessionActivity.recordOrigin(tokenHash, { clientAddress: ctx.clientAddress, userAgent: ctx.userAgent });

// --- operations ----------------------------------------------------------------------------

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const listSessionsOperation = defineOperation({
  name: 'users.sessions.list',
  summary: 'The caller\'s signed-in sessions (login tokens, not personal access tokens), most recently used first: public id, created, last used (to the minute), address, user agent, and which is this one; and their remembered devices (id, created, last used, expiry, address, user agent).',
  auth: 'user',
  uses: ['sessionActivity', 'devices', 'clock', 'settings'],
  secondFactor: { kind: 'none' },
  allowedBeforeEnrolment: true,
  input: s.noInput,
  rest: { method: 'GET', path: '/api/v1/users.sessions.list' },
  ddp: { name: 'twofold:listSessions' },
  async handler(ctx) {
    const { sessionActivity, devices, clock, settings } = ctx.deps;
    await sessionActivity.settled();
    const rows = await sessionActivity.live(ctx.user.id, clock.now(), settings.sessionsListMax);
    return {
      sessions: rows.map((r) => ({
        id: publicSessionId(r.tokenHash),
        createdAt: iso(r.createdAt),
        lastUsedAt: iso(r.lastUsedAt),
        clientAddress: r.clientAddress,
        userAgent: r.userAgent,
        current: r.tokenHash === ctx.token?.tokenHash,
      })),
      // "Remember this device": the browsers whose sign-in skips the code (issue 14 §4).
      devices: (await devices.live(ctx.user.id, clock.now(), settings.rememberDeviceMax)).map(publicDevice),
    };
  },
});

export const revokeSessionOperation = defineOperation({
  name: 'users.sessions.revoke',
  summary: 'Sign one of the caller\'s sessions out, by the id from users.sessions.list (this one too). No second factor: it can only take access away.',
  auth: 'user',
  uses: ['sessionActivity', 'tokens', 'clock', 'audit'],
  secondFactor: { kind: 'none' },
  input: z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, 'a session id from users.sessions.list') }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.sessions.revoke' },
  ddp: { name: 'twofold:revokeSession' },
  async handler(ctx, input) {
    const { deps, user } = ctx;
    const hash = (await deps.sessionActivity.tokenHashes(user.id, deps.clock.now())).find((h) => publicSessionId(h) === input.id);
    if (!hash || !await deps.tokens.remove(hash)) throw new TwofoldError('error-token-not-found');
    const current = hash === ctx.token?.tokenHash;
    if (current) ctx.session.loggedOut();
    await recordAudit(ctx, { event: 'session-revoked', userId: user.id, details: { sessions: 1, current } });
    return { revoked: 1, current };
  },
});

export const revokeOtherSessionsOperation = defineOperation({
  name: 'users.sessions.revokeOthers',
  summary: 'Sign out every other session of the caller (personal access tokens stay). No second factor: it can only take access away.',
  auth: 'user',
  uses: ['tokens', 'audit'],
  secondFactor: { kind: 'none' },
  input: s.noInput,
  rest: { method: 'POST', path: '/api/v1/users.sessions.revokeOthers' },
  ddp: { name: 'twofold:revokeOtherSessions' },
  async handler(ctx) {
    const user = ctx.user;
    const keep = ctx.token?.kind === 'login' ? ctx.token.tokenHash : undefined;
    const revoked = await ctx.deps.tokens.removeLoginTokensOfUser(user.id, keep);
    if (revoked > 0) await recordAudit(ctx, { event: 'session-revoked', userId: user.id, details: { sessions: revoked, others: true } });
    return { revoked };
  },
});

export const myAuditOperation = defineOperation({
  name: 'users.audit.mine',
  summary: 'The caller\'s own recent security events (sign-ins, codes, methods turned on or off, sessions signed out), newest first; at most TWOFOLD_AUDIT_MINE_MAX.',
  auth: 'user',
  uses: ['auditLog', 'settings'],
  secondFactor: { kind: 'none' },
  input: s.noInput,
  rest: { method: 'GET', path: '/api/v1/users.audit.mine' },
  ddp: { name: 'twofold:myAudit' },
  async handler(ctx) {
    const { events } = await ctx.deps.auditLog.list({ offset: 0, count: ctx.deps.settings.auditMineMax, userId: ctx.user.id });
    return {
      events: events.map((e) => ({
        _id: e.id, ts: new Date(e.at).toISOString(), event: e.event, method: e.method, transport: e.transport,
        clientAddress: e.clientAddress, details: e.details,
      })),
    };
  },
});

export const enrolmentStatusOperation = defineOperation({
  name: 'users.2fa.enrolment',
  summary: 'Whether the caller has a second factor, and whether their role requires one before anything else (TWOFOLD_REQUIRE_2FA_FOR_ROLES).',
  auth: 'user',
  uses: ['settings'],
  secondFactor: { kind: 'none' },
  allowedBeforeEnrolment: true,
  input: s.noInput,
  rest: { method: 'GET', path: '/api/v1/users.2fa.enrolment' },
  ddp: { name: 'twofold:enrolmentStatus' },
  async handler(ctx) {
    const user = ctx.user;
    const { settings } = ctx.deps;
    return {
      methods: availableMethods(user, settings),
      required: settings.twoFactorEnabled && user.roles.some((r) => settings.requireTwoFactorForRoles.includes(r)),
      mustEnrolFirst: mustEnrolFirst(user, settings),
    };
  },
});

export const mySecurityOperations = [
  listSessionsOperation, revokeSessionOperation, revokeOtherSessionsOperation, myAuditOperation, enrolmentStatusOperation,
];
