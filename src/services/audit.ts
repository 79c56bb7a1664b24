import type { Logger } from 'pino';
import type { App } from '../app.ts';
import type { AuditEvent, ClientInfo } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import type { OperationContext } from '../operations/registry.ts';
import type { AuditStore } from '../store/audit.ts';

export const clientOf = (ctx: Pick<OperationContext, 'transport' | 'clientAddress'>): ClientInfo =>
  ({ transport: ctx.transport, address: ctx.clientAddress });

/**
 * Stores an event and logs it as one line, so operators who ship logs see security events
 * without reading the database. Events carry no codes or secrets by construction.
 */
export function auditRecorder(store: AuditStore, clock: Clock, log: Logger): (event: AuditEvent) => Promise<void> {
  return async (event) => {
    await store.insert(event, clock.now());
    log.info({
      audit: event.event, userId: event.userId ?? undefined, method: event.method,
      transport: event.client?.transport ?? 'cli', clientAddress: event.client?.address, ...event.details,
    }, 'security event');
  };
}

/** An event from an operation (a method turned on or off, new backup codes, a login). */
export async function recordAudit(ctx: OperationContext, event: Omit<AuditEvent, 'client'>): Promise<void> {
  await recordAuditFor(ctx.app, clientOf(ctx), event);
}

export async function recordAuditFor(app: App, client: ClientInfo | undefined, event: Omit<AuditEvent, 'client'>): Promise<void> {
  await app.twoFactor.audit?.({ ...event, client });
}
