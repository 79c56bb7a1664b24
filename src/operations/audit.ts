import { z } from 'zod';
import { TwofoldError } from '../core/errors.ts';
import { defineOperation } from './registry.ts';
import * as s from './schemas.ts';

export const AUDIT_PAGE_MAX = 100;

// Query strings arrive as text; numbers in a JSON body or DDP params as numbers.
const wholeNumber = z.union([z.number(), z.string().regex(/^\d{1,9}$/, 'must be a whole number').transform(Number)])
  .pipe(z.number().int().min(0).max(1_000_000_000));

export const audit2faOperation = defineOperation({
  name: 'audit.2fa',
  summary: 'Admin: the security trail of second-factor events and logins, newest first (offset, count ≤ 100, userId).',
  auth: 'admin',
  // As Rocket.Chat's audit endpoints (a route permission): 403 error-unauthorized.
  permissionError: () => new TwofoldError('error-unauthorized'),
  uses: ['auditLog'],
  secondFactor: { kind: 'none' },
  input: z.preprocess((v) => v ?? {}, z.object({
    offset: wholeNumber.optional(),
    // Like Rocket.Chat's paging, a larger count is lowered to the maximum rather than refused.
    count: wholeNumber.optional(),
    userId: s.id.optional(),
  }).strict()),
  rest: { method: 'GET', path: '/api/v1/audit.2fa' },
  async handler(ctx, input) {
    const offset = input.offset ?? 0;
    const count = Math.min(Math.max(input.count ?? 50, 1), AUDIT_PAGE_MAX);
    const { events, total } = await ctx.deps.auditLog.list({ offset, count, userId: input.userId });
    return {
      events: events.map((e) => ({
        _id: e.id, ts: new Date(e.at), event: e.event, userId: e.userId, username: e.username, method: e.method,
        transport: e.transport, clientAddress: e.clientAddress, details: e.details,
      })),
      count: events.length,
      offset,
      total,
    };
  },
});
