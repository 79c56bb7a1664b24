// The security events Twofold keeps for admins (GET /api/v1/audit.2fa, `twofold audit`).
// An event says who, when, from where and what happened — never a code, a password, a
// token or a secret, so the trail can be read widely and kept long.

export const AUDIT_EVENTS = [
  'code-sent',
  '2fa-success',
  '2fa-failure',
  'lockout',
  'totp-replay',
  'rate-limited',
  'method-enabled',
  'method-disabled',
  'backup-codes-regenerated',
  'login-success',
  'login-failure',
  'login-blocked',
  '2fa-reset',
  '2fa-suspended',
  '2fa-recovered',
  'session-revoked',
  'device-remembered',
  'device-forgotten',
] as const;

export type AuditEventName = (typeof AUDIT_EVENTS)[number];

/** Where a call came from: the transport and the client address the server saw. */
export interface ClientInfo {
  transport: 'rest' | 'ddp' | 'cli';
  address: string;
}

/** Only flat, non-secret facts: counts, method names, reasons. */
export type AuditDetails = Record<string, string | number | boolean | null>;

export interface AuditEvent {
  event: AuditEventName;
  userId: string | null;
  method?: string | undefined;
  client?: ClientInfo | undefined;
  details?: AuditDetails | undefined;
}
