// The wire shapes the SDK reads and writes. They mirror the server's protocol (spec §1–§4,
// docs/api.md); once the project has a shared contract module (src/contract) these should
// be imported from it instead of being restated here.

/**
 * A second factor the server can ask for. `password` is the SHA-256 hex of the password;
 * `webauthn` is a passkey's assertion (AuthenticationResponseJSON as JSON text).
 */
export type SecondFactorMethod = 'totp' | 'email' | 'password' | 'webauthn';

/** The codes of a challenge the hook is asked to answer. */
export type ChallengeCode = 'totp-required' | 'totp-invalid';

/** Error codes the SDK gives a meaning to; any other server code comes through as a string. */
export type KnownErrorCode =
  | ChallengeCode
  | 'totp-max-attempts'
  | 'error-too-many-requests'
  | 'error-parameter-required'
  | 'error-invalid-user'
  | 'error-invalid-params'
  | 'error-method-not-found'
  | 'error-login-blocked-for-ip'
  | 'error-login-blocked-for-user'
  | 'not-authorized'
  | 'unauthorized'
  | 'login-failed'
  // Raised by the SDK itself, never sent by the server.
  | 'network'
  | 'connection-closed'
  | 'bad-request'
  | 'bad-response';

// `string & {}` keeps editor completion for the known codes while accepting new ones.
export type ErrorCode = KnownErrorCode | (string & {});

/** `details` of `totp-required` / `totp-invalid` / `totp-max-attempts` (spec §3.3). */
export interface ChallengeDetails {
  /** The method the server chose for this call. */
  method: SecondFactorMethod;
  /** Whether this very challenge mailed a code (email only). */
  codeGenerated?: boolean;
  /** Enabled methods among `totp`, `email` and `webauthn`, in that order; never `password`. */
  availableMethods: SecondFactorMethod[];
  /** Live email codes and their expiry instants (ISO strings, oldest first). */
  codeCount?: number;
  codeExpires?: string[];
  /** Whom to ask `sendEmailCode` for ("send again"). */
  emailOrUsername?: string;
  /** Where the email codes went: the verified addresses, masked (a•••e@example.com). Twofold's own key. */
  destinations?: string[];
  /** When `webauthn` is available: the request options for `navigator.credentials.get`. */
  webauthn?: Record<string, unknown>;
  [key: string]: unknown;
}

export type Transport = 'rest' | 'ddp';

/** What the `onChallenge` hook is told. */
export interface ChallengeContext {
  /** The method whose code the server wants (`details.method`). */
  method: SecondFactorMethod;
  details: ChallengeDetails;
  /** 1 for the first challenge of a call, then one more after each refused code. */
  attempt: number;
  transport: Transport;
  /** `totp-required` (no code yet) or `totp-invalid` (the previous code was refused). */
  error: ChallengeCode;
  /** What is being called: the REST path or the DDP method name (`login` for logins). */
  call: string;
}

/** The object form of the hook's answer. */
export interface ChallengeReply {
  /**
   * The code; for `webauthn` the passkey's assertion (AuthenticationResponseJSON as JSON
   * text). Left out, the reply asks the server for a challenge of `method` instead (for
   * `email` the server mails a code) and the hook is asked again with its details.
   */
  code?: string;
  method?: SecondFactorMethod;
  /** Login only: remember this device, so its next sign-ins skip the second factor. */
  rememberDevice?: boolean;
}

/**
 * The hook's answer: a code for `context.method`, a reply (another method, no code to
 * switch method, remember the device), or null to give up (the call then rejects with
 * TwoFactorRequiredError).
 */
export type ChallengeAnswer = string | ChallengeReply | null | undefined;

export type ChallengeHook = (context: ChallengeContext) => ChallengeAnswer | Promise<ChallengeAnswer>;

/** Options both clients share. */
export interface ChallengeOptions {
  onChallenge?: ChallengeHook;
  /** Codes the hook may supply for one call before the SDK gives up (default 3). */
  maxAttempts?: number;
}

/** Options of a password login (REST `login`, DDP `loginWithPassword`). */
export interface LoginOptions {
  /**
   * Ask the server to remember this device when the login passes a second factor: the
   * result's `deviceToken` then lets later logins of this device skip it (for as long as
   * the server's `rememberDeviceDays`). The hook can also ask for it in its reply.
   */
  rememberDevice?: boolean;
  /** A device token an earlier login returned: the server skips the second factor while it holds. */
  deviceToken?: string | null;
  /** This login's own hook, instead of the client's (e.g. the sign-in page's code form). */
  onChallenge?: ChallengeHook;
  /** A second factor the caller already has: sent with the first try. */
  answer?: ChallengeReply;
}

/** The logged-in user as `GET /api/v1/me` and the login answer describe it. Never a secret. */
export interface Me {
  _id: string;
  username: string;
  name?: string;
  emails?: { address: string; verified: boolean }[];
  roles?: string[];
  status?: string;
  services?: { totp?: { enabled: boolean }; email2fa?: { enabled: boolean } };
  [key: string]: unknown;
}

/** REST login state: the values of the `X-User-Id` and `X-Auth-Token` headers. */
export interface RestSession {
  userId: string;
  authToken: string;
}

export interface RestLoginResult extends RestSession {
  me: Me;
  /** A new remembered device's token, when the login asked for one and passed a second factor. Keep it for the next login. */
  deviceToken?: string;
}

/** The DDP `login` result, its `tokenExpires` decoded from EJSON. */
export interface DdpLoginResult {
  id: string;
  token: string;
  tokenExpires: Date;
  type: 'password' | 'resume';
  /** As RestLoginResult.deviceToken. */
  deviceToken?: string;
}

/** Who logs in on DDP: a username or email string, or Meteor's selector. */
export type DdpUserSelector = string | { username: string } | { email: string } | { id: string };
