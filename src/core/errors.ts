// One catalogue of every error Twofold returns: its stable code (the protocol's own where
// Rocket.Chat has one), the human reason, the HTTP status used on REST and, where it differs
// from the usual, the DDP form. The transports render them (src/transport/rest/errors.ts,
// src/transport/ddp/errors.ts); docs/errors.md is generated from this table.
//
// An entry may also name its factory (`errors.<name>(details?, reason?)`) when the name
// derived from the code would collide or not be an identifier.

/** How an error travels over DDP when that is not the usual `{error: code, reason, details}`. */
export interface DdpForm {
  /** The Meteor `error` field when it is not the code (Meteor's accounts answer a failed login with 403). */
  error?: number;
  /** false: `details` never travel over DDP. */
  details?: boolean;
}

export interface CatalogueEntry {
  reason: string;
  status: number;
  ddp?: DdpForm;
  factory?: string;
}

export const errorCatalogue = {
  'totp-required': { reason: 'TOTP Required', status: 400 },
  'totp-invalid': { reason: 'TOTP Invalid', status: 400 },
  // "Maximun" is Rocket.Chat's spelling; clients match the text.
  'totp-max-attempts': { reason: 'TOTP Maximun Failed Attempts Reached', status: 400 },
  'invalid-totp': { reason: 'Invalid TOTP provided', status: 400 },
  'error-2fa-already-enabled': { reason: 'Two-factor authentication with an authenticator app is already enabled', status: 400, factory: 'totpAlreadyEnabled' },
  'error-2fa-not-enabled': { reason: 'Two-factor authentication by email is not enabled', status: 400, factory: 'emailCodesNotEnabled' },
  // Rocket.Chat's wording for a permission refusal (its `permissionsRequired` routes), HTTP 403.
  'error-unauthorized': { reason: 'User does not have the permissions required for this action', status: 403 },
  'error-parameter-required': { reason: 'A required parameter is missing', status: 400 },
  'error-invalid-params': { reason: 'Invalid parameters', status: 400 },
  // Rocket.Chat's code for input its JSON schemas refuse; the reason is the schema's own message.
  'invalid-params': { reason: 'must NOT have additional properties', status: 400, factory: 'schemaRefused' },
  'error-invalid-user': { reason: 'Invalid user', status: 400 },
  'error-invalid-user-id': { reason: 'Invalid user id', status: 400 },
  'error-invalid-email': { reason: 'Invalid email address', status: 400 },
  'error-email-in-use': { reason: 'Email address already in use', status: 400 },
  'error-username-in-use': { reason: 'Username already in use', status: 400 },
  'error-invalid-token': { reason: 'The link is invalid or has expired', status: 400 },
  'error-invalid-password': { reason: 'Invalid password', status: 400 },
  'error-body-too-large': { reason: 'Request body too large', status: 400 },
  'error-invalid-json': { reason: 'Request body is not valid JSON', status: 400 },
  'error-unsupported-media-type': { reason: 'Request body must be application/json', status: 415 },
  'error-invalid-header': { reason: 'Invalid header', status: 400 },
  'error-bad-request': { reason: 'Malformed HTTP request', status: 400 },
  'not-authorized': { reason: 'Not authorized', status: 401 },
  'unauthorized': { reason: 'You must be logged in to do this.', status: 401, factory: 'loginRequired' },
  // Meteor's accounts answer a failed login with the numeric 403 and no details.
  'login-failed': { reason: 'Incorrect credentials', status: 401, ddp: { error: 403, details: false } },
  // Rocket.Chat's codes and texts for its failed-login blocks; its clients show them as such.
  'error-login-blocked-for-ip': { reason: 'Login has been temporarily blocked For IP', status: 401 },
  'error-login-blocked-for-user': { reason: 'Login has been temporarily blocked For User', status: 401 },
  'error-not-allowed': { reason: 'Not allowed', status: 403 },
  // Too many wrong codes in a row: no code is checked until a recovery code or an admin lifts it.
  // Passkeys (issue 16 §1): a registration that did not verify, or one passkey too many.
  'error-webauthn-registration-failed': { reason: 'The passkey could not be registered; try again', status: 400 },
  'error-webauthn-limit': { reason: 'Too many passkeys registered; remove one first', status: 400 },
  'error-webauthn-not-found': { reason: 'No such passkey', status: 400 },
  'error-2fa-suspended': { reason: 'Two-factor authentication is suspended after too many failed attempts; recover it with a code sent to your verified email, or ask an administrator', status: 403 },
  'error-invalid-recovery-code': { reason: 'Invalid or expired recovery code', status: 400 },
  'error-action-not-allowed': { reason: 'Action not allowed', status: 403 },
  'error-origin-not-allowed': { reason: 'Origin not allowed', status: 403 },
  'error-room-not-found': { reason: 'Room not found', status: 400 },
  'error-duplicate-channel-name': { reason: 'A channel with that name exists', status: 400 },
  'error-message-not-found': { reason: 'Message not found', status: 400 },
  'error-message-already-exists': { reason: 'A message with this _id already exists', status: 400 },
  'error-message-size-exceeded': { reason: 'Message size exceeds the allowed maximum', status: 400 },
  'error-token-not-found': { reason: 'Token not found', status: 400 },
  'error-token-already-exists': { reason: 'A token with this name already exists', status: 400 },
  'error-method-not-found': { reason: 'Method not found', status: 404 },
  'error-not-found': { reason: 'Not found', status: 404 },
  'error-too-many-requests': { reason: 'Too many requests', status: 429 },
  'error-server-shutting-down': { reason: 'Server is shutting down', status: 503 },
  'error-internal': { reason: 'Internal server error', status: 500 },
  // TWOFOLD_REQUIRE_2FA_FOR_ROLES: the caller's role must have a second factor and has none yet.
  'error-2fa-enrolment-required': { reason: 'Set up a second factor before doing anything else', status: 403 },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof errorCatalogue;

type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
/** `error-invalid-user` → `invalidUser`; the prefix stays when dropping it would start with a digit. */
type DerivedName<C extends string> = C extends `error-${infer R}` ? (R extends `${Digit}${string}` ? Camel<C> : Camel<R>) : Camel<C>;
type FactoryName<C extends ErrorCode> = (typeof errorCatalogue)[C] extends { factory: infer F extends string } ? F : DerivedName<C>;

/** The entry of a code, with the DDP defaults filled in. */
export function catalogueEntry(code: ErrorCode): { reason: string; status: number; ddp: { error: string | number; details: boolean }; factory: string } {
  const entry: CatalogueEntry = errorCatalogue[code];
  return {
    reason: entry.reason,
    status: entry.status,
    ddp: { error: entry.ddp?.error ?? code, details: entry.ddp?.details ?? true },
    factory: entry.factory ?? derivedFactoryName(code),
  };
}

function derivedFactoryName(code: string): string {
  const rest = code.startsWith('error-') && !/^error-\d/.test(code) ? code.slice('error-'.length) : code;
  return rest.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export interface RateLimitInfo {
  limit: number;
  remaining: number;
  resetAt: number;
  retryAfter: number;
}

export class TwofoldError extends Error {
  readonly reason: string;
  status: number;
  constructor(
    readonly code: ErrorCode,
    readonly details?: Record<string, unknown>,
    reason?: string,
  ) {
    const entry = errorCatalogue[code];
    const text = reason ?? entry.reason;
    super(`${text} [${code}]`);
    this.name = 'TwofoldError';
    this.reason = text;
    this.status = entry.status;
  }

  /**
   * Set on limit errors: REST sends X-RateLimit-Limit/-Remaining/-Reset (reset in epoch ms,
   * as Rocket.Chat) and Retry-After (seconds).
   */
  rateLimit?: RateLimitInfo;

  withRateLimit(rateLimit: RateLimitInfo): this {
    this.rateLimit = rateLimit;
    return this;
  }

  /** The same error with another HTTP status (e.g. 401 for a missing login). */
  withStatus(status: number): this {
    this.status = status;
    return this;
  }
}

export const isTwofoldError = (e: unknown): e is TwofoldError => e instanceof TwofoldError;

export type ErrorFactory = (details?: Record<string, unknown>, reason?: string) => TwofoldError;

/**
 * A named factory per code, e.g. `errors.totpRequired(details)` for
 * `new TwofoldError('totp-required', details)`; both spellings make the same error.
 */
export const errors = Object.fromEntries(
  (Object.keys(errorCatalogue) as ErrorCode[]).map((code) => [catalogueEntry(code).factory, ((details, reason) => new TwofoldError(code, details, reason)) satisfies ErrorFactory]),
) as { readonly [C in ErrorCode as FactoryName<C>]: ErrorFactory };
