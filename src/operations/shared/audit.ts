import type { AuditEvent, ClientInfo } from '../../core/audit.ts';
import type { Deps } from '../deps.ts';
import type { CallContext, OperationContext } from '../registry.ts';

export const clientOf = (ctx: Pick<OperationContext, 'transport' | 'clientAddress'>): ClientInfo =>
  ({ transport: ctx.transport, address: ctx.clientAddress });

/** An event from an operation (a method turned on or off, new backup codes, a login). */
export async function recordAudit(ctx: Pick<CallContext<'audit'>, 'deps' | 'transport' | 'clientAddress'>, event: Omit<AuditEvent, 'client'>): Promise<void> {
  await recordAuditFor(ctx.deps, clientOf(ctx), event);
}

export async function recordAuditFor(deps: Pick<Deps, 'audit'>, client: ClientInfo | undefined, event: Omit<AuditEvent, 'client'>): Promise<void> {
  await deps.audit({ ...event, client });
}
