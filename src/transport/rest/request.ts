import type { FastifyRequest } from 'fastify';
import type { App } from '../../app.ts';
import { errors } from '../../core/errors.ts';
import type { OperationContext } from '../../operations/registry.ts';
import { authenticateToken } from '../../operations/shared/accounts.ts';
import { clientAddressOf } from '../client-address.ts';

const MAX_HEADER_VALUE = 256;

/** One header as a bounded string; a repeated or oversized header is bad input, not a crash. */
export function header(req: FastifyRequest, name: string, max = MAX_HEADER_VALUE): string | undefined {
  const v = req.headers[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v) || v.length > max) {
    throw errors.invalidHeader({ header: name }, `Invalid header ${name}`);
  }
  return v;
}

/** Who is calling: the login of the X-User-Id / X-Auth-Token headers (if valid) and the client. */
export async function identify(app: App, req: FastifyRequest): Promise<Pick<OperationContext, 'clientAddress' | 'userAgent' | 'user' | 'token'>> {
  const userId = header(req, 'x-user-id');
  const authToken = header(req, 'x-auth-token');
  const found = userId && authToken ? await authenticateToken(app, authToken, userId) : null;
  return {
    clientAddress: clientAddressOf(req.socket.remoteAddress, req.headers['x-forwarded-for'], app.settings.trustProxy),
    userAgent: String(req.headers['user-agent'] ?? '').slice(0, 512),
    user: found?.user ?? null,
    token: found?.token ?? null,
  };
}
