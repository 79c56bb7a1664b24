import type { AuditEvent, ClientInfo } from '../audit.ts';
import type { TwoFactorDeps } from './types.ts';

/**
 * The deps for one call: the engine's parts (sending a code, spotting a replay) learn the
 * caller's transport and address without every function passing it along.
 */
export function forClient(deps: TwoFactorDeps, client: ClientInfo | undefined): TwoFactorDeps {
  return client ? { ...deps, client } : deps;
}

/** Records a security event for the current call's client. */
export async function emitEvent(deps: TwoFactorDeps, event: Omit<AuditEvent, 'client'>): Promise<void> {
  await deps.audit?.({ ...event, client: deps.client });
}
