// How a catalogue error travels over REST: the status from the catalogue (or the one the
// error was given) and Rocket.Chat's `API.v1.failure` body.

import type { TwofoldError } from '../../core/errors.ts';

/** The REST body of an error: `{success: false, error, errorType, details?}`. */
export function restErrorBody(e: TwofoldError): Record<string, unknown> {
  const body: Record<string, unknown> = { success: false, error: e.message, errorType: e.code };
  if (e.details) body.details = e.details;
  return body;
}
