// Row types of the query layer. Times are epoch milliseconds (BIGINT); flags are 0/1
// integers so that SQLite and PostgreSQL return the same values.

import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  username: string;
  username_lower: string;
  name: string;
  password_hash: string | null;
  roles: string; // JSON array
  active: number;
  require_password_change: number;
  created_at: number;
  email2fa_enabled: number;
  totp_enabled: number;
  totp_secret: string | null; // AES-256-GCM sealed
  totp_pending_secret: string | null; // sealed, set by enrolment until validated
  totp_last_step: number | null; // last accepted time step: a step is accepted once
  session_version: Generated<number>; // PostgreSQL: bumped by triggers on every change a cached session must see (migration 0009)
}

export interface UserEmailsTable {
  address_lower: string;
  address: string;
  user_id: string;
  verified: number;
  created_at: number;
}

export interface LoginTokensTable {
  token_hash: string;
  user_id: string;
  kind: string; // 'login' | 'pat'
  name: string | null; // personal access token name
  bypass_2fa: number;
  created_at: number;
  expires_at: number | null;
  twofa_until: number | null; // remembered second factor (spec §3.5)
  twofa_fingerprint: string | null;
  last_token_part: string | null; // personal access tokens: the last characters, for the list
  last_used_at: number | null; // login tokens: last call, to the minute (issue 14 §5)
  client_address: string | null; // login tokens: where the sign-in came from
  user_agent: string | null; // login tokens: the signing-in client's User-Agent, cut to 512 characters
}

export interface EmailVerificationsTable {
  token_hash: string;
  user_id: string;
  address_lower: string;
  expires_at: number;
}

export interface EmailCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  created_at: number;
  expires_at: number;
}

export interface BackupCodesTable {
  user_id: string;
  code_hash: string;
}

export interface TwofaFailuresTable {
  id: string;
  user_id: string;
  kind: string; // 'email' | 'totp' | 'password'
  at: number;
}

export interface TwofaUserStateTable {
  user_id: string;
  failures_in_row: number; // failed checks since the last success (reserved ones included)
  suspended_at: number | null; // set when failures_in_row reached the limit; cleared by recovery
  enrol_failures: number; // wrong codes for the current pending TOTP secret
  recovery_hash: string | null; // keyed hash of the mailed recovery code
  recovery_expires_at: number | null;
  recovery_attempts: number;
}

export interface WebauthnCredentialsTable {
  id: string;
  user_id: string;
  credential_id: string; // base64url, unique across users
  public_key: string; // base64url COSE key
  counter: number; // the authenticator's signature counter last seen (0: it keeps none)
  transports: string; // JSON array of AuthenticatorTransport names
  name: string;
  created_at: number;
  last_used_at: number | null;
}

export interface WebauthnChallengesTable {
  challenge: string; // base64url; single use: deleted by the one check that spends it
  user_id: string;
  purpose: string; // 'register' | 'authenticate'
  expires_at: number;
}

export interface RoomsTable {
  id: string;
  name: string;
  type: string;
  created_by: string;
  created_at: number;
}

export interface RoomMembersTable {
  room_id: string;
  user_id: string;
  joined_at: number;
}

export interface MessagesTable {
  id: string;
  rid: string;
  user_id: string;
  msg: string;
  ts: number;
  edited_at: number | null;
  edited_by: string | null;
  pinned: number;
  pinned_at: number | null;
  pinned_by: string | null;
}

export interface RateLimitsTable {
  bucket: string; // 'send-code-user' | 'send-code-explicit' | 'send-code-address' | 'login-user' | 'login-address'
  key: string; // user id, client address, or a hash of an unknown login name
  hits: string; // JSON array of epoch ms, oldest first
  expires_at: number; // after this the row holds nothing that counts
}

export interface AuditEventsTable {
  seq: Generated<number>;
  at: number;
  event: string;
  user_id: string | null;
  method: string | null;
  transport: string; // 'rest' | 'ddp' | 'cli'
  client_address: string;
  details: string; // JSON object of non-secret facts
}

export interface Database {
  webauthn_credentials: WebauthnCredentialsTable;
  webauthn_challenges: WebauthnChallengesTable;
  rate_limits: RateLimitsTable;
  audit_events: AuditEventsTable;
  users: UsersTable;
  user_emails: UserEmailsTable;
  login_tokens: LoginTokensTable;
  remembered_devices: RememberedDevicesTable;
  email_verifications: EmailVerificationsTable;
  email_codes: EmailCodesTable;
  backup_codes: BackupCodesTable;
  twofa_failures: TwofaFailuresTable;
  twofa_user_state: TwofaUserStateTable;
  rooms: RoomsTable;
  room_members: RoomMembersTable;
  messages: MessagesTable;
}

export interface RememberedDevicesTable {
  id: string;
  token_hash: string; // keyed hash of the device token (ServerKeys.hashToken)
  user_id: string;
  fingerprint: string; // SHA-256 of the user agent the token was issued to
  created_at: number;
  last_used_at: number | null;
  expires_at: number;
  client_address: string | null;
  user_agent: string | null;
}
