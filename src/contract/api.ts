// The REST contract between the server and the browser app: the paths the pages call, the
// shapes they read, and the error codes they put into words. The server imports it where
// it builds those answers; src/web imports it type-only, so nothing of the server is bundled
// and a renamed path, field or code is a compile error on both sides.
// No runtime imports here: this file must type-check with the DOM library and no Node types.

export type { ErrorCode } from '../core/errors.ts';
import type { ErrorCode } from '../core/errors.ts';

/** The REST paths the pages call. */
export const API_PATHS = {
  info: '/api/info',
  login: '/api/v1/login',
  logout: '/api/v1/logout',
  me: '/api/v1/me',
  register: '/api/v1/users.register',
  verifyEmail: '/api/v1/users.verifyEmail',
  sendConfirmationEmail: '/api/v1/users.sendConfirmationEmail',
  updateOwnBasicInfo: '/api/v1/users.updateOwnBasicInfo',
  sendEmailCode: '/api/v1/users.2fa.sendEmailCode',
  enableEmail: '/api/v1/users.2fa.enableEmail',
  disableEmail: '/api/v1/users.2fa.disableEmail',
  totpEnable: '/api/v1/users.totp.enable',
  totpValidate: '/api/v1/users.totp.validate',
  totpDisable: '/api/v1/users.totp.disable',
  totpRegenerateCodes: '/api/v1/users.totp.regenerateCodes',
  totpCodesRemaining: '/api/v1/users.totp.codesRemaining',
  // After the security branch: the way back for a user whose second factor is suspended.
  recover: '/api/v1/users.2fa.recover',
} as const;

export type ApiPath = (typeof API_PATHS)[keyof typeof API_PATHS];

/** `GET /api/info`: no login needed. */
export interface InfoReply {
  version: string;
  /** Lifetime of an emailed code in seconds (TWOFOLD_EMAIL_CODE_TTL): the pages' wording comes from it. */
  emailCodeTtl: number;
  /** "Remember this device" lifetime in days (TWOFOLD_REMEMBER_DEVICE_DAYS; 0: not offered). Optional: older servers lack it. */
  rememberDeviceDays?: number;
  success: true;
}

/** `GET /api/v1/me`. */
export interface Me {
  _id: string;
  username: string;
  name: string;
  emails: { address: string; verified: boolean }[];
  roles: string[];
  status: string;
  active: boolean;
  requirePasswordChange: boolean;
  createdAt: string;
  services: { totp: { enabled: boolean }; email2fa: { enabled: boolean } };
}

/** Why a code was refused, as far as the server can tell (Twofold's own key of `totp-invalid`). */
export type MissReason = 'wrong' | 'expired' | 'used';

/** `details` of `totp-required`, `totp-invalid` and `totp-max-attempts` (spec §3.3). */
export interface ChallengeDetails {
  method: 'totp' | 'email' | 'password' | 'webauthn';
  codeGenerated: boolean;
  /** Email only: the live codes and when each expires (ISO dates, oldest first). */
  codeCount?: number;
  codeExpires?: string[];
  availableMethods: ('totp' | 'email' | 'webauthn')[];
  emailOrUsername?: string;
  /** When `webauthn` is available: the request options (PublicKeyCredentialRequestOptionsJSON) to answer with a passkey. */
  webauthn?: Record<string, unknown>;
  // Twofold's own keys, after the protocol's; Rocket.Chat's clients ignore them.
  /** Email only: the verified addresses the codes go to, masked (a•••e@example.com). */
  destinations?: string[];
  reason?: MissReason;
  /** Wrong codes left before `totp-max-attempts`. */
  attemptsLeft?: number;
  /** Seconds until the lockout ends. */
  retryAfter?: number;
}

/** `details` of `error-too-many-requests` and the login blocks: seconds to wait. */
export interface WaitDetails {
  timeToReset: number;
  seconds?: number;
}

/** Every REST error (Rocket.Chat's `API.v1.failure` shape). */
export interface RestErrorBody {
  success: false;
  error: string;
  errorType: ErrorCode;
  details?: Record<string, unknown>;
}

/**
 * Codes the pages handle that may not be in this branch's catalogue yet: they arrive from
 * a server with the security branch (a suspended second factor) and are put into words anyway.
 */
export type ForwardErrorCode = 'error-2fa-suspended';

/**
 * What a page may meet as an error's code: the catalogue's `errorType`, the login's own
 * failure body (`{"status":"error","error":"Unauthorized"}`, Rocket.Chat's shape), and the
 * browser's `network` (no answer at all).
 */
export type PageErrorCode = ErrorCode | ForwardErrorCode | 'Unauthorized' | 'network';
