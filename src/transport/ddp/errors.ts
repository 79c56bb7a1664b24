// How errors travel over DDP: Meteor's error object inside a `result` (or `nosub`) frame.
// A catalogue error takes its DDP form from the catalogue (src/core/errors.ts).

import { catalogueEntry, type TwofoldError } from '../../core/errors.ts';

/** A Meteor error object: what Meteor's clients rebuild a `Meteor.Error` from. */
export function meteorError(error: string | number, reason?: string, details?: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { isClientSafe: true, error };
  if (reason !== undefined) out.reason = reason;
  if (details !== undefined) out.details = details;
  out.message = reason !== undefined ? `${reason} [${error}]` : `[${error}]`;
  out.errorType = 'Meteor.Error';
  return out;
}

/** A catalogue error in its DDP form. */
export function meteorErrorOf(e: TwofoldError): Record<string, unknown> {
  const { ddp } = catalogueEntry(e.code);
  return meteorError(ddp.error, e.reason, ddp.details ? e.details : undefined);
}
