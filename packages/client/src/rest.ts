// REST client: Rocket.Chat's `/api/v1` with the `X-User-Id` / `X-Auth-Token` headers.
// A second factor is asked for in two shapes (spec §1, §3.3): the login answers 401 with the
// code in `error` and takes the answer as `code` in its body; any other protected call
// answers 400 with the code in `errorType` and takes the answer as `x-2fa-code` and
// `x-2fa-method` headers. Both go through the same hook.
import { toAnswer, withChallenges, type Answer } from './challenge.ts';
import { sha256Hex } from './digest.ts';
import { serverError, TwofoldClientError } from './errors.ts';
import type { ChallengeHook, ChallengeOptions, ChallengeReply, LoginOptions, Me, RestLoginResult, RestSession } from './types.ts';

/** Why the session changed: a login, a logout, the server refused the token, or the program set it. */
export type SessionChange = 'login' | 'logout' | 'expired' | 'set';

export interface RestClientOptions extends ChallengeOptions {
  /** The server's base URL (`https://chat.example.com`); '' for the page's own origin. */
  url: string;
  /** A login to start with (e.g. kept in sessionStorage, or a personal access token). */
  session?: RestSession | null;
  /** Told of every login and logout, and when the server stops accepting the token (null, `expired`). */
  onSessionChange?: (session: RestSession | null, why: SessionChange) => void;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Sent with every request (e.g. a User-Agent in Node). */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  body?: unknown;
  /** Appended as a query string (GET parameters). */
  query?: Record<string, string | number | boolean | undefined>;
  /** Answer second-factor challenges through the hook (default true). */
  twoFactor?: boolean;
  /** This call's own hook, instead of the client's (e.g. a prompt that names what the code is for). */
  onChallenge?: ChallengeHook;
  /** A second factor the caller already has: sent with the first try (`x-2fa-code` / `x-2fa-method`). */
  answer?: ChallengeReply;
}

type Json = Record<string, unknown>;

export class RestClient {
  #session: RestSession | null;
  readonly #options: RestClientOptions;
  readonly #base: string;

  constructor(options: RestClientOptions) {
    this.#options = options;
    this.#base = options.url.replace(/\/+$/, '');
    this.#session = options.session ?? null;
  }

  get session(): RestSession | null {
    return this.#session;
  }

  set session(session: RestSession | null) {
    this.#setSession(session, 'set');
  }

  #setSession(session: RestSession | null, why: SessionChange): void {
    this.#session = session;
    this.#options.onSessionChange?.(session, why);
  }

  /**
   * Logs in with a username or email and the password (sent as its SHA-256 digest). When the
   * user has a second factor the hook is asked for the code; `deviceToken` (from an earlier
   * login with `rememberDevice`) lets the server skip it.
   */
  async login(user: string, password: string, options: LoginOptions = {}): Promise<RestLoginResult> {
    // `{hashed}` is the REST form of Meteor's digest (spec §1): the plaintext stays here.
    const body: Json = { user, password: { hashed: await sha256Hex(password) } };
    if (options.deviceToken) body.deviceToken = options.deviceToken;
    return this.#login(body, options);
  }

  /** Logs in again with a token from an earlier login; never challenged. */
  resume(authToken: string): Promise<RestLoginResult> {
    return this.#login({ resume: authToken });
  }

  async logout(): Promise<void> {
    if (!this.#session) return;
    try {
      await this.request('POST', '/api/v1/logout', { twoFactor: false });
    } finally {
      this.#setSession(null, 'logout');
    }
  }

  async me(): Promise<Me> {
    const { success: _, ...me } = await this.get<Me & { success?: boolean }>('me');
    return me as Me;
  }

  /** Mails a new code ("send again"); no login needed. Answers where it went. */
  async sendEmailCode(emailOrUsername: string): Promise<string[]> {
    const r = await this.post<{ emails?: string[] }>('users.2fa.sendEmailCode', { emailOrUsername });
    return r.emails ?? [];
  }

  get<T = Json>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T = Json>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, { body: body ?? {} });
  }

  /** Any endpoint: `path` is `/api/v1/…` or just the name after `/api/v1/`. */
  request<T = Json>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const full = path.startsWith('/') ? path : `/api/v1/${path}`;
    const first = options.answer ? toAnswer(options.answer, 'totp') ?? undefined : undefined;
    const send = (answer?: Answer) => this.#send(method, full, options, answer).then((r) => r as T);
    if (options.twoFactor === false) return send(first);
    const hooks = options.onChallenge ? { ...this.#options, onChallenge: options.onChallenge } : this.#options;
    return withChallenges(hooks, { transport: 'rest', call: full }, send, first);
  }

  async #login(body: Json, options: LoginOptions = {}): Promise<RestLoginResult> {
    const path = '/api/v1/login';
    const hooks = options.onChallenge ? { ...this.#options, onChallenge: options.onChallenge } : this.#options;
    const first = options.answer ? toAnswer(options.answer, 'totp') ?? undefined : undefined;
    const result = await withChallenges(hooks, { transport: 'rest', call: path }, async (answer) => {
      const sent = { ...body };
      // The login body's `code` takes a code, not a passkey's assertion (longer than the body
      // allows a code to be): that travels in x-2fa-code alone, as on any other call.
      if (answer?.code !== undefined && answer.method !== 'webauthn') sent.code = answer.code;
      if (answer?.code !== undefined && (options.rememberDevice || answer.rememberDevice)) sent.rememberDevice = true;
      // Without a login header: an old token must not decide anything about a new login.
      return this.#send('POST', path, { body: sent }, answer, false);
    }, first);
    const data = result.data as { userId: string; authToken: string; me: Me; deviceToken?: unknown } | undefined;
    if (!data || typeof data.userId !== 'string' || typeof data.authToken !== 'string') {
      throw new TwofoldClientError('bad-response', { transport: 'rest', reason: 'The login answer has no token' });
    }
    this.#setSession({ userId: data.userId, authToken: data.authToken }, 'login');
    const out: RestLoginResult = { userId: data.userId, authToken: data.authToken, me: data.me };
    if (typeof data.deviceToken === 'string') out.deviceToken = data.deviceToken;
    return out;
  }

  async #send(method: string, path: string, options: RequestOptions, answer: Answer | undefined, auth = true): Promise<Json> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.#options.headers };
    if (auth && this.#session) {
      headers['x-user-id'] = this.#session.userId;
      headers['x-auth-token'] = this.#session.authToken;
    }
    if (answer) {
      if (answer.code !== undefined) headers['x-2fa-code'] = answer.code;
      headers['x-2fa-method'] = answer.method;
    }
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let url = `${this.#base}${path}`;
    const query = Object.entries(options.query ?? {}).filter(([, v]) => v !== undefined);
    if (query.length > 0) url += `?${new URLSearchParams(query.map(([k, v]) => [k, String(v)])).toString()}`;

    const doFetch = this.#options.fetch ?? globalThis.fetch;
    let res: Response;
    try {
      res = await doFetch(url, {
        method, headers, credentials: 'omit', cache: 'no-store',
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (e) {
      throw new TwofoldClientError('network', { transport: 'rest', reason: e instanceof Error ? e.message : String(e) });
    }
    let body: Json = {};
    try {
      const parsed: unknown = await res.json();
      if (parsed && typeof parsed === 'object') body = parsed as Json;
    } catch {
      // Not JSON (a proxy's error page): the status alone describes the failure below.
    }
    if (res.ok && body.success !== false) return body;
    const error = errorOf(res, body, path);
    // The token is dead (expired, revoked, logged out elsewhere): forget it, which tells
    // onSessionChange, so a page can show its sign-in again. A challenge is not that.
    if (auth && this.#session && res.status === 401 && !error.code.startsWith('totp-')) this.#setSession(null, 'expired');
    throw error;
  }
}

function errorOf(res: Response, body: Json, path: string): TwofoldClientError {
  // Protected calls put the code in `errorType`; the login in `error`, and a wrong password
  // there is Rocket.Chat's bare `"error": "Unauthorized"` (spec §1, §3.3).
  const code = typeof body.errorType === 'string' ? body.errorType
    : path === '/api/v1/login' && res.status === 401 && body.error === 'Unauthorized' ? 'login-failed'
      : typeof body.error === 'string' && /^[a-z0-9-]+$/.test(body.error) ? body.error
        : res.status === 401 ? 'unauthorized' : `http-${res.status}`;
  const details = body.details && typeof body.details === 'object' ? body.details as Json : {};
  const text = typeof body.message === 'string' ? body.message : typeof body.error === 'string' ? body.error : res.statusText;
  const reason = text.endsWith(` [${code}]`) ? text.slice(0, -code.length - 3) : text;
  const retry = Number(res.headers.get('retry-after'));
  return serverError(code, {
    transport: 'rest', status: res.status, reason, details,
    retryAfter: Number.isFinite(retry) && res.headers.has('retry-after') ? retry : undefined,
  });
}
