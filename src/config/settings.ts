// The one table of every setting Twofold reads. docs/settings.md is generated from it
// (`npm run docs:settings`) and a test fails when the two drift apart.

interface Base<T> {
  env: string;
  default: T;
  meaning: string;
}
export interface IntSetting extends Base<number> { kind: 'int'; min: number; max: number; unit?: string }
export interface BoolSetting extends Base<boolean> { kind: 'bool' }
export interface StringSetting extends Base<string | undefined> {
  kind: 'string';
  maxLength: number;
  pattern?: RegExp;
  patternText?: string;
  secret?: boolean;
}
/** A comma-separated list: of fixed `values`, or of any names matching `itemPattern`. */
export interface ListSetting extends Base<string[]> { kind: 'list'; values?: readonly string[]; itemPattern?: RegExp; itemText?: string }
export type SettingSpec = IntSetting | BoolSetting | StringSetting | ListSetting;

const int = (s: Omit<IntSetting, 'kind'>): IntSetting => ({ kind: 'int', ...s });
const bool = (s: Omit<BoolSetting, 'kind'>): BoolSetting => ({ kind: 'bool', ...s });
const str = <D extends string | undefined>(s: Omit<StringSetting, 'kind' | 'default'> & { default: D }) =>
  ({ kind: 'string', ...s }) as StringSetting & { default: D };
const list = (s: Omit<ListSetting, 'kind'>): ListSetting => ({ kind: 'list', ...s });

const DAY = 86_400;

/** Message operations whose second-factor policy is a setting (spec §5). */
export const messageOperationNames = [
  'createChannel', 'sendMessage', 'updateMessage', 'deleteMessage', 'pinMessage', 'unpinMessage',
] as const;

export const settingsTable = {
  port: int({ env: 'PORT', default: 3000, min: 0, max: 65535, meaning: 'TCP port for HTTP and the DDP WebSocket (0 picks a free port).' }),
  host: str({ env: 'HOST', default: '127.0.0.1', maxLength: 255, meaning: 'Address to listen on.' }),
  dataDir: str({ env: 'TWOFOLD_DATA_DIR', default: './data', maxLength: 4096, meaning: 'Directory for the SQLite file, the server key and the mail outbox.' }),
  databaseUrl: str({
    env: 'DATABASE_URL', default: undefined, maxLength: 4096, secret: true,
    pattern: /^postgres(ql)?:\/\//, patternText: 'a postgres:// URL',
    meaning: 'Unset: SQLite file `twofold.db` in the data dir. `postgres://…`: PostgreSQL.',
  }),
  sqliteCommitDelay: int({
    env: 'TWOFOLD_SQLITE_COMMIT_DELAY', default: 0, min: 0, max: 50, unit: 'ms',
    meaning: 'SQLite: how long the shared transaction of concurrent writes (group commit) waits for more writers before its one COMMIT; 0: until the next event-loop turn. Every caller is still answered only after the COMMIT that holds its writes.',
  }),
  sqliteSync: str({
    env: 'TWOFOLD_SQLITE_SYNC', default: 'pool', maxLength: 10, pattern: /^(pool|inline)$/, patternText: 'pool or inline',
    meaning: 'SQLite: who syncs each COMMIT to disk. `pool`: Twofold fsyncs the WAL on the thread pool after every COMMIT and answers its callers after that, while the event loop serves other calls (SQLite at `synchronous = NORMAL`; what reaches the disk is what FULL writes). `inline`: SQLite itself, inside the COMMIT (`synchronous = FULL`), which holds the event loop for the whole sync. Either way a caller is answered only once its writes are on disk.',
  }),
  smtpUrl: str({
    env: 'TWOFOLD_SMTP_URL', default: undefined, maxLength: 4096, secret: true,
    pattern: /^smtps?:\/\//, patternText: 'an smtp:// or smtps:// URL',
    meaning: 'Unset: mail is written to `<data dir>/outbox/` as .eml files. `smtp://user:pass@host:port`: sent over SMTP.',
  }),
  mailFrom: str({ env: 'TWOFOLD_MAIL_FROM', default: 'Twofold <no-reply@twofold.local>', maxLength: 320, meaning: 'From address of every mail.' }),
  publicUrl: str({
    env: 'TWOFOLD_PUBLIC_URL', default: undefined, maxLength: 2048, pattern: /^https?:\/\//, patternText: 'an http(s):// URL',
    meaning: 'Base URL used in links sent by mail. Unset: http://HOST:PORT.',
  }),
  secretKey: str({
    env: 'TWOFOLD_SECRET_KEY', default: undefined, maxLength: 512, secret: true,
    pattern: /^[A-Za-z0-9+/=_-]{43,}$/, patternText: 'at least 32 random bytes, base64 or hex',
    meaning: 'Server key for keyed hashes and encryption. Unset: generated on first start into `<data dir>/server.key` (mode 0600).',
  }),
  trustProxy: str({
    env: 'TWOFOLD_TRUST_PROXY', default: undefined, maxLength: 2048,
    pattern: /^[0-9A-Fa-f.:]+(,[0-9A-Fa-f.:]+)*$/, patternText: 'comma-separated IP addresses',
    meaning: 'Reverse proxies (exact IP addresses) whose `X-Forwarded-For` names the client. Unset: the peer address is the client. Per-address limits count this address: behind a proxy, set it.',
  }),
  allowedOrigins: str({
    env: 'TWOFOLD_ALLOWED_ORIGINS', default: undefined, maxLength: 4096,
    pattern: /^(\*|[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s,/]+)(,(\*|[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s,/]+))*$/,
    patternText: 'comma-separated origins (scheme://host[:port]) or *',
    meaning: 'Web pages (by `Origin`) from other sites that may open the DDP WebSocket (`/websocket`, `/sockjs/…`). Unset: only pages of this server (Origin host = Host header, or `X-Forwarded-Host` from a trusted proxy) and clients that send no Origin; any other upgrade gets HTTP 403. `*`: any page.',
  }),
  logLevel: str({
    env: 'TWOFOLD_LOG_LEVEL', default: 'info', maxLength: 10, pattern: /^(fatal|error|warn|info|debug|trace|silent)$/,
    patternText: 'one of fatal, error, warn, info, debug, trace, silent', meaning: 'Log level (pino).',
  }),
  maxBodyBytes: int({ env: 'TWOFOLD_MAX_BODY_BYTES', default: 102_400, min: 1024, max: 10_485_760, unit: 'bytes', meaning: 'Largest REST request body; larger ones get 400 `error-body-too-large`.' }),
  maxFrameBytes: int({ env: 'TWOFOLD_MAX_FRAME_BYTES', default: 102_400, min: 1024, max: 10_485_760, unit: 'bytes', meaning: 'Largest DDP frame; a larger one closes the socket with code 1009.' }),
  ddpPingInterval: int({ env: 'TWOFOLD_DDP_PING_INTERVAL', default: 30, min: 1, max: 3600, unit: 's', meaning: 'Idle time before the server pings a DDP client; a client silent for twice this is closed.' }),
  loginTokenTtl: int({ env: 'TWOFOLD_LOGIN_TOKEN_TTL', default: 90 * DAY, min: 60, max: 3650 * DAY, unit: 's', meaning: 'Lifetime of a login token.' }),
  sessionCacheSize: int({ env: 'TWOFOLD_SESSION_CACHE_SIZE', default: 10_000, min: 0, max: 1_000_000, unit: 'sessions', meaning: 'Login sessions (token, user, emails) kept in memory so that a call on a known token costs no database read on SQLite, one small indexed read instead of the session\'s on PostgreSQL (0: off, every call reads the whole session). A revocation, deactivation or second-factor change still takes effect on the next call on every instance: see SECURITY.md (A call\'s session in memory).' }),
  sessionCacheMaxAge: int({ env: 'TWOFOLD_SESSION_CACHE_MAX_AGE', default: 60, min: 1, max: 3600, unit: 's', meaning: 'A session kept in memory is read again from the database after this long, whatever else happened: a backstop, since every change to it already drops it.' }),
  emailVerifyTtl: int({ env: 'TWOFOLD_EMAIL_VERIFY_TTL', default: DAY, min: 60, max: 30 * DAY, unit: 's', meaning: 'Lifetime of an email verification link.' }),
  argon2MemoryKib: int({ env: 'TWOFOLD_ARGON2_MEMORY_KIB', default: 19_456, min: 1024, max: 1_048_576, unit: 'KiB', meaning: 'argon2id memory cost for password hashes (OWASP minimum: 19 MiB).' }),
  argon2Iterations: int({ env: 'TWOFOLD_ARGON2_ITERATIONS', default: 2, min: 1, max: 20, meaning: 'argon2id time cost for password hashes.' }),
  argon2Concurrency: int({
    env: 'TWOFOLD_ARGON2_CONCURRENCY', default: 0, min: 0, max: 256,
    meaning: "How many password hashes run at once (libuv's thread pool); the others wait their turn in order. 0: one less than the pool's threads (`UV_THREADPOOL_SIZE`, 4 by default), so a flood of logins never leaves the SQLite WAL sync, files or DNS waiting behind it.",
  }),
  shutdownTimeout: int({ env: 'TWOFOLD_SHUTDOWN_TIMEOUT', default: 10, min: 1, max: 600, unit: 's', meaning: 'How long SIGTERM waits for in-flight calls before closing anyway.' }),

  twoFactorEnabled: bool({ env: 'TWOFOLD_2FA_ENABLED', default: true, meaning: 'Master switch: off lets every protected call pass without a second factor.' }),
  email2faEnabled: bool({ env: 'TWOFOLD_EMAIL_2FA_ENABLED', default: true, meaning: 'Email codes are a usable method.' }),
  totpEnabled: bool({ env: 'TWOFOLD_TOTP_ENABLED', default: true, meaning: 'Authenticator apps (TOTP) are a usable method.' }),
  passwordFallback: bool({ env: 'TWOFOLD_PASSWORD_FALLBACK', default: true, meaning: 'Users with no method confirm protected calls with their password (SHA-256 hex).' }),
  rememberFor: int({ env: 'TWOFOLD_REMEMBER_FOR', default: 1800, min: 0, max: 30 * DAY, unit: 's', meaning: 'After a successful check, the same token and client pass protected calls without a code for this long (0: off). Also the grace period of a new user.' }),
  rememberLogin: bool({ env: 'TWOFOLD_REMEMBER_LOGIN', default: true, meaning: 'A sign-in that passed a second factor counts as a success for `TWOFOLD_REMEMBER_FOR`, so the first protected call after it does not ask again (always-ask calls still do).' }),
  emailCodeTtl: int({ env: 'TWOFOLD_EMAIL_CODE_TTL', default: 600, min: 30, max: 3600, unit: 's', meaning: 'Lifetime of an emailed code.' }),
  emailCodeMaxLive: int({ env: 'TWOFOLD_EMAIL_CODE_MAX_LIVE', default: 5, min: 1, max: 20, meaning: 'Most email codes live at once per user; sending another drops the oldest.' }),
  emailCodeMaxAttempts: int({ env: 'TWOFOLD_EMAIL_CODE_MAX_ATTEMPTS', default: 5, min: 1, max: 100, meaning: 'Wrong email codes per user across live codes before `totp-max-attempts`; the next call sends a fresh code.' }),
  failureLimit: int({ env: 'TWOFOLD_2FA_FAILURE_LIMIT', default: 10, min: 1, max: 100, meaning: 'Failed second-factor checks per user in the window before `totp-max-attempts`.' }),
  failureWindow: int({ env: 'TWOFOLD_2FA_FAILURE_WINDOW', default: 900, min: 10, max: DAY, unit: 's', meaning: 'Sliding window for `TWOFOLD_2FA_FAILURE_LIMIT`.' }),
  maxConsecutiveFailures: int({ env: 'TWOFOLD_2FA_MAX_CONSECUTIVE_FAILURES', default: 50, min: 1, max: 100, meaning: 'Failed second-factor checks in a row (only a success resets the count) before the user\'s second factor is suspended (`error-2fa-suspended`) until they recover by email (`users.2fa.recover`) or an admin resets it. At most 100 (NIST SP 800-63B §3.2.2).' }),
  totpEnrolMaxAttempts: int({ env: 'TWOFOLD_TOTP_ENROL_MAX_ATTEMPTS', default: 5, min: 1, max: 100, meaning: 'Wrong codes for a pending authenticator secret (`users.totp.validate`) before it is burnt and enrolment must start again.' }),
  sendCodeUserInterval: int({ env: 'TWOFOLD_SEND_CODE_USER_INTERVAL', default: 60, min: 0, max: 3600, unit: 's', meaning: 'At most one explicitly requested email code (`sendEmailCode`) per user in this many seconds; automatic sends (a challenge that mails a code) neither wait for it nor count in it (0: no minimum). Over it: 429 / `error-too-many-requests`.' }),
  sendCodeUserPerHour: int({ env: 'TWOFOLD_SEND_CODE_USER_PER_HOUR', default: 10, min: 1, max: 10_000, meaning: 'Email codes per user in any sliding hour.' }),
  sendCodeAddressPerHour: int({ env: 'TWOFOLD_SEND_CODE_ADDRESS_PER_HOUR', default: 30, min: 1, max: 100_000, meaning: 'Email codes requested from one client address in any sliding hour, whatever the user.' }),
  loginFailuresPerUser: int({ env: 'TWOFOLD_LOGIN_FAILURES_PER_USER', default: 10, min: 1, max: 10_000, meaning: 'Wrong passwords for one login name within `TWOFOLD_LOGIN_BLOCK_SECONDS` before its logins are refused with `error-login-blocked-for-user`; a successful login resets it.' }),
  loginFailuresPerAddress: int({ env: 'TWOFOLD_LOGIN_FAILURES_PER_ADDRESS', default: 50, min: 1, max: 100_000, meaning: 'Wrong passwords from one client address within `TWOFOLD_LOGIN_BLOCK_SECONDS` before its logins are refused with `error-login-blocked-for-ip`.' }),
  loginBlockSeconds: int({ env: 'TWOFOLD_LOGIN_BLOCK_SECONDS', default: 300, min: 1, max: DAY, unit: 's', meaning: 'Sliding window of the login failure limits: a blocked name or address is let in again once its failures are older than this.' }),
  registerAddressPerHour: int({ env: 'TWOFOLD_REGISTER_ADDRESS_PER_HOUR', default: 10, min: 1, max: 100_000, meaning: 'Sign-ups (`users.register`) from one client address in any sliding hour, accepted or not. Over it: 429 / `error-too-many-requests`, nothing created or mailed.' }),
  verifyMailAddressPerHour: int({ env: 'TWOFOLD_VERIFY_MAIL_ADDRESS_PER_HOUR', default: 20, min: 1, max: 100_000, meaning: 'Verification-link mails (sign-up, `sendConfirmationEmail`, own email change) asked for from one client address in any sliding hour. Over it: 429 / `error-too-many-requests`.' }),
  verifyMailTargetInterval: int({ env: 'TWOFOLD_VERIFY_MAIL_TARGET_INTERVAL', default: 60, min: 0, max: 3600, unit: 's', meaning: 'At most one verification-link mail to one email address in this many seconds (0: no minimum), whoever asks. Over it: 429 / `error-too-many-requests`.' }),
  verifyMailTargetPerHour: int({ env: 'TWOFOLD_VERIFY_MAIL_TARGET_PER_HOUR', default: 5, min: 1, max: 10_000, meaning: 'Verification-link mails to one email address in any sliding hour, whoever asks.' }),
  totpMaxDelta: int({ env: 'TWOFOLD_TOTP_MAX_DELTA', default: 1, min: 0, max: 10, unit: 'steps', meaning: 'TOTP codes this many 30 s steps before or after now are accepted.' }),
  webauthnEnabled: bool({ env: 'TWOFOLD_WEBAUTHN_ENABLED', default: true, meaning: 'Passkeys and security keys (WebAuthn) can be registered and are a usable method (`webauthn`).' }),
  webauthnRpId: str({
    env: 'TWOFOLD_WEBAUTHN_RP_ID', default: undefined, maxLength: 253, pattern: /^[A-Za-z0-9.-]+$/, patternText: 'a domain name',
    meaning: 'WebAuthn relying party ID: the domain passkeys are bound to (the origin\'s host or a parent domain of it). Unset: the host of `TWOFOLD_WEBAUTHN_ORIGIN`. Browsers refuse an IP address: serve the web app under a domain name (or `localhost`) to use passkeys.',
  }),
  webauthnOrigin: str({
    env: 'TWOFOLD_WEBAUTHN_ORIGIN', default: undefined, maxLength: 2048, pattern: /^https?:\/\/[^\s/]+$/, patternText: 'an origin (scheme://host[:port])',
    meaning: 'The origin browsers report for the web app when they use a passkey. Unset: the origin of `TWOFOLD_PUBLIC_URL`.',
  }),
  webauthnChallengeTtl: int({ env: 'TWOFOLD_WEBAUTHN_CHALLENGE_TTL', default: 300, min: 30, max: 3600, unit: 's', meaning: 'How long a passkey challenge (registration or sign-in) can be answered; each is accepted once.' }),
  webauthnMaxLiveChallenges: int({ env: 'TWOFOLD_WEBAUTHN_MAX_LIVE_CHALLENGES', default: 5, min: 1, max: 50, meaning: 'Passkey challenges live at once per user (each prompt hands out one); a new one drops the oldest, whose answer is then refused.' }),
  webauthnMaxCredentials: int({ env: 'TWOFOLD_WEBAUTHN_MAX_CREDENTIALS', default: 10, min: 1, max: 100, unit: 'passkeys', meaning: 'Most passkeys and security keys one user can register.' }),
  totpIssuer: str({ env: 'TWOFOLD_TOTP_ISSUER', default: 'Twofold', maxLength: 64, pattern: /^[^:]+$/, patternText: 'text without ":"', meaning: 'Issuer shown by authenticator apps.' }),
  auditRetentionDays: int({ env: 'TWOFOLD_AUDIT_RETENTION_DAYS', default: 365, min: 0, max: 3650, unit: 'days', meaning: 'Audit events older than this are deleted by the hourly clean-up (0: kept forever).' }),
  maskUnknownUsers: bool({ env: 'TWOFOLD_MASK_UNKNOWN_USERS', default: false, meaning: 'Anonymous endpoints answer unknown and known names alike: sendEmailCode answers every caller but the user themself with an empty list and counts its limits against unknown names too; a sign-up with a name or address in use answers as a success and mails the address a notice instead. Off: `error-invalid-user`, `error-username-in-use`, `error-email-in-use`.' }),
  messageOperations2fa: list({
    env: 'TWOFOLD_MESSAGE_OPERATIONS_2FA', default: [], values: messageOperationNames,
    meaning: 'Comma-separated message operations that ask for a second factor on their own (default: none).',
  }),
  messageMaxLength: int({ env: 'TWOFOLD_MESSAGE_MAX_LENGTH', default: 5000, min: 1, max: 100_000, unit: 'characters', meaning: 'Longest message text (Rocket.Chat\'s `Message_MaxAllowedSize`); a longer one gets `error-message-size-exceeded`.' }),
  requireTwoFactorForRoles: list({
    env: 'TWOFOLD_REQUIRE_2FA_FOR_ROLES', default: [], itemPattern: /^[A-Za-z0-9_.-]{1,64}$/, itemText: 'a role name (letters, digits, `_.-`, at most 64)',
    meaning: 'Comma-separated roles (e.g. `admin`) whose users must set up a second factor first: until they have one, every call but those needed to see the account and enrol (me, logout, authenticator set-up, email codes, email confirmation, the session list) gets 403 `error-2fa-enrolment-required`. Default: nobody is forced.',
  }),
  rememberDeviceDays: int({ env: 'TWOFOLD_REMEMBER_DEVICE_DAYS', default: 30, min: 0, max: 365, unit: 'days', meaning: 'How long "remember this device" lets a browser sign in with its password alone (the sign-in\'s second factor is skipped; protected calls still ask). 0: the feature is off and tokens issued before stop working.' }),
  rememberDeviceMax: int({ env: 'TWOFOLD_REMEMBER_DEVICE_MAX', default: 20, min: 1, max: 100, unit: 'devices', meaning: 'Most remembered devices per user; remembering another forgets the oldest.' }),
  sessionsListMax: int({ env: 'TWOFOLD_SESSIONS_LIST_MAX', default: 100, min: 1, max: 1000, unit: 'sessions', meaning: 'Most sessions `users.sessions.list` returns (the most recently used).' }),
  auditMineMax: int({ env: 'TWOFOLD_AUDIT_MINE_MAX', default: 50, min: 1, max: 500, unit: 'events', meaning: 'Most of their own security events `users.audit.mine` returns to a user (the newest).' }),
  historyMaxCount: int({ env: 'TWOFOLD_HISTORY_MAX_COUNT', default: 100, min: 1, max: 1000, unit: 'messages', meaning: 'Most messages one history read returns; a larger `count` or `limit` is lowered to this.' }),
} satisfies Record<string, SettingSpec>;

export type SettingsTable = typeof settingsTable;
type ValueOf<S> = S extends IntSetting ? number : S extends BoolSetting ? boolean : S extends ListSetting ? string[]
  : S extends StringSetting ? (S['default'] extends string ? string : string | undefined) : never;
export type Settings = { -readonly [K in keyof SettingsTable]: ValueOf<SettingsTable[K]> };

export interface SettingProblem {
  env: string;
  problem: string;
}

/** One or more bad settings; the message lists every one, so a fix needs one restart, not one per mistake. */
export class SettingError extends Error {
  readonly env: string;
  readonly problems: readonly SettingProblem[];

  constructor(env: string, problem: string);
  constructor(problems: readonly SettingProblem[]);
  constructor(envOrProblems: string | readonly SettingProblem[], problem?: string) {
    const problems = typeof envOrProblems === 'string' ? [{ env: envOrProblems, problem: problem ?? '' }] : envOrProblems;
    const lines = problems.map((p) => `Setting ${p.env}: ${p.problem}`);
    super(lines.length === 1 ? lines[0]! : `${lines.length} settings are wrong:\n  ${lines.join('\n  ')}`);
    this.name = 'SettingError';
    this.env = problems[0]?.env ?? '';
    this.problems = problems;
  }
}

function parseOne(spec: SettingSpec, raw: string | undefined): unknown {
  if (raw === undefined || raw === '') return spec.default;
  switch (spec.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) throw new SettingError(spec.env, `"${raw}" is not a whole number`);
      const n = Number(raw.trim());
      if (n < spec.min || n > spec.max) throw new SettingError(spec.env, `${n} is outside ${spec.min}..${spec.max}`);
      return n;
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new SettingError(spec.env, `"${raw}" is not true/false`);
    }
    case 'string': {
      if (raw.length > spec.maxLength) throw new SettingError(spec.env, `longer than ${spec.maxLength} characters`);
      if (spec.pattern && !spec.pattern.test(raw)) {
        const shown = spec.secret ? '(value hidden)' : `"${raw}"`;
        throw new SettingError(spec.env, `${shown} is not ${spec.patternText ?? 'valid'}`);
      }
      return raw;
    }
    case 'list': {
      const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
      for (const item of items) {
        if (spec.values && !spec.values.includes(item)) throw new SettingError(spec.env, `"${item}" is not one of ${spec.values.join(', ')}`);
        if (spec.itemPattern && !spec.itemPattern.test(item)) throw new SettingError(spec.env, `"${item}" is not ${spec.itemText ?? 'valid'}`);
      }
      return items;
    }
  }
}

/** Reads every setting from `env`; bad values throw one SettingError naming all of them. */
export function loadSettings(env: Record<string, string | undefined> = process.env, overrides: Partial<Settings> = {}): Settings {
  const out: Record<string, unknown> = {};
  const problems: SettingProblem[] = [];
  for (const [key, spec] of Object.entries(settingsTable) as [string, SettingSpec][]) {
    if (key in overrides) {
      out[key] = (overrides as Record<string, unknown>)[key];
      continue;
    }
    try {
      out[key] = parseOne(spec, env[spec.env]);
    } catch (e) {
      if (!(e instanceof SettingError)) throw e;
      problems.push(...e.problems);
    }
  }
  if (problems.length > 0) throw new SettingError(problems);
  return out as Settings;
}
