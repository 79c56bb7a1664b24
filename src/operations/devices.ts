// "Remember this device" (issue 14 §4): the user's remembered devices, listed with their
// sessions (users.sessions.list), and forgetting one or all of them.
import { z } from 'zod';
import { TwofoldError } from '../core/errors.ts';
import type { RememberedDevice } from '../store/devices.ts';
import { recordAudit } from './shared/audit.ts';
import { defineOperation } from './registry.ts';
import * as s from './schemas.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What the list shows of a device: never its token or hash. */
export const publicDevice = (d: RememberedDevice) => ({
  id: d.id,
  createdAt: iso(d.createdAt),
  lastUsedAt: iso(d.lastUsedAt),
  expiresAt: iso(d.expiresAt),
  clientAddress: d.clientAddress,
  userAgent: d.userAgent,
});

export const revokeDeviceOperation = defineOperation({
  name: 'users.devices.revoke',
  summary: 'Forget one of the caller\'s remembered devices, by the id from users.sessions.list: its next sign-in asks for a code. No second factor: it can only take access away.',
  auth: 'user',
  uses: ['devices', 'audit'],
  secondFactor: { kind: 'none' },
  allowedBeforeEnrolment: true,
  input: z.object({ id: s.id }).strict(),
  rest: { method: 'POST', path: '/api/v1/users.devices.revoke' },
  ddp: { name: 'twofold:revokeDevice' },
  async handler(ctx, input) {
    if (!await ctx.deps.devices.remove(ctx.user.id, input.id)) throw new TwofoldError('error-token-not-found');
    await recordAudit(ctx, { event: 'device-forgotten', userId: ctx.user.id, details: { devices: 1 } });
    return { revoked: 1 };
  },
});

export const revokeAllDevicesOperation = defineOperation({
  name: 'users.devices.revokeAll',
  summary: 'Forget every remembered device of the caller: each next sign-in asks for a code. No second factor: it can only take access away.',
  auth: 'user',
  uses: ['devices', 'audit'],
  secondFactor: { kind: 'none' },
  allowedBeforeEnrolment: true,
  input: s.noInput,
  rest: { method: 'POST', path: '/api/v1/users.devices.revokeAll' },
  ddp: { name: 'twofold:revokeAllDevices' },
  async handler(ctx) {
    const revoked = await ctx.deps.devices.removeAllOfUser(ctx.user.id);
    if (revoked > 0) await recordAudit(ctx, { event: 'device-forgotten', userId: ctx.user.id, details: { devices: revoked } });
    return { revoked };
  },
});

export const deviceOperations = [revokeDeviceOperation, revokeAllDevicesOperation];
