import type { Logger } from 'pino';
import type { AuditEvent } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import type { AuditStore } from '../store/audit.ts';

/**
 * Stores an event and logs it as one line, so operators who ship logs see security events
 * without reading the database. Events carry no codes or secrets by construction.
 */
export function auditRecorder(store: AuditStore, clock: Clock, log: Logger): (event: AuditEvent) => Promise<void> {
  const logged = auditLogLine(log);
  return async (event) => {
    await store.insert(event, clock.now());
    logged(event);
  };
}

/** The log line alone, for an event stored by the transaction of a second-factor check once it has committed. */
export function auditLogLine(log: Logger): (event: AuditEvent) => void {
  return (event) => {
    log.info({
      audit: event.event, userId: event.userId ?? undefined, method: event.method,
      transport: event.client?.transport ?? 'cli', clientAddress: event.client?.address, ...event.details,
    }, 'security event');
  };
}
