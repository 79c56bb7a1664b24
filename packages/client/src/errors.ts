// Every failure is a TwofoldClientError with the server's stable code, so callers can
// switch on `code`; the subclasses mark the cases a client handles differently (ask the
// person again later, wait, or give up on the second factor).
import type { ChallengeDetails, ErrorCode, Transport } from './types.ts';

export interface ErrorInit {
  transport: Transport;
  reason?: string;
  details?: Record<string, unknown>;
  /** HTTP status (REST only). */
  status?: number;
}

export class TwofoldClientError extends Error {
  readonly transport: Transport;
  readonly reason: string;
  readonly details: Record<string, unknown>;
  readonly status: number | undefined;

  constructor(readonly code: ErrorCode, init: ErrorInit) {
    const reason = init.reason ?? code;
    super(`${reason} [${code}]`);
    this.name = 'TwofoldClientError';
    this.transport = init.transport;
    this.reason = reason;
    this.details = init.details ?? {};
    this.status = init.status;
  }
}

/**
 * A second factor was wanted and not given: no hook, the hook returned null, or the hook's
 * codes were refused `maxAttempts` times (`exhausted`). `code` is the server's last answer.
 */
export class TwoFactorRequiredError extends TwofoldClientError {
  constructor(
    from: TwofoldClientError,
    /** Codes the hook supplied before this error. */
    readonly attempts: number,
    readonly exhausted: boolean,
  ) {
    super(from.code, { transport: from.transport, reason: from.reason, details: from.details, status: from.status });
    this.name = 'TwoFactorRequiredError';
  }

  get challenge(): ChallengeDetails {
    return this.details as ChallengeDetails;
  }
}

/** `totp-max-attempts`: the server refuses codes for this user for a while (spec §3.6). */
export class TwoFactorLockedError extends TwofoldClientError {
  constructor(code: ErrorCode, init: ErrorInit) {
    super(code, init);
    this.name = 'TwoFactorLockedError';
  }
}

/** HTTP 429 / DDP `error-too-many-requests`: try again after `retryAfter` seconds. */
export class RateLimitError extends TwofoldClientError {
  readonly retryAfter: number | undefined;
  constructor(code: ErrorCode, init: ErrorInit & { retryAfter?: number }) {
    super(code, init);
    this.name = 'RateLimitError';
    this.retryAfter = init.retryAfter ?? numberOr(init.details?.timeToReset);
  }
}

const numberOr = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The error class for a server error code. */
export function serverError(code: ErrorCode, init: ErrorInit & { retryAfter?: number }): TwofoldClientError {
  if (code === 'totp-max-attempts') return new TwoFactorLockedError(code, init);
  if (code === 'error-too-many-requests' || init.status === 429) return new RateLimitError(code, init);
  return new TwofoldClientError(code, init);
}

export const isChallenge = (e: unknown): e is TwofoldClientError =>
  e instanceof TwofoldClientError && !(e instanceof TwoFactorRequiredError) && (e.code === 'totp-required' || e.code === 'totp-invalid');
