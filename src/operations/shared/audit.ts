import type { App } from '../../app.ts';
import type { AuditEvent, ClientInfo } from '../../core/audit.ts';
import type { OperationContext } from '../registry.ts';

export const clientOf = (ctx: Pick<OperationContext, 'transport' | 'clientAddress'>): ClientInfo =>
  ({ transport: ctx.transport, address: ctx.clientAddress });

/** An event from an operation (a method turned on or off, new backup codes, a login). */
export async function recordAudit(ctx: OperationContext, event: Omit<AuditEvent, 'client'>): Promise<void> {
  await recordAuditFor(ctx.app, clientOf(ctx), event);
}

export async function recordAuditFor(app: App, client: ClientInfo | undefined, event: Omit<AuditEvent, 'client'>): Promise<void> {
  await app.twoFactor.audit?.({ ...event, client });
}
