// The browser's side of our REST API. The login token lives in localStorage (never in a URL
// or a cookie): a new tab of this browser stays signed in, signing out removes it, and the
// browser never sends it on its own, so other sites cannot ride on it. Only our own scripts
// can read it: the CSP allows scripts from 'self' alone.
import type { ApiPath, InfoReply } from '../../contract/api.ts';

export interface Session {
  userId: string;
  authToken: string;
}

/** A second factor sent with a call (the `x-2fa-code` / `x-2fa-method` headers). */
export interface TwoFactorAnswer {
  code?: string;
  method?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly details: Record<string, unknown> = {},
    message = code,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const SESSION_KEY = 'twofold.session';

export function getSession(): Session | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    return typeof s.userId === 'string' && typeof s.authToken === 'string' ? { userId: s.userId, authToken: s.authToken } : null;
  } catch {
    return null;
  }
}

export function setSession(s: Session | null): void {
  if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else localStorage.removeItem(SESSION_KEY);
}

// "Remember this device": the token the server gave a sign-in that asked for it. It outlives
// signing out (that is its point); the server forgets it when the user does, or on a password change.
const DEVICE_KEY = 'twofold.device';

export function getDeviceToken(): string | null {
  try {
    const t = localStorage.getItem(DEVICE_KEY);
    return t && t.length <= 256 ? t : null;
  } catch {
    return null;
  }
}

export function setDeviceToken(token: string | null): void {
  if (token) localStorage.setItem(DEVICE_KEY, token);
  else localStorage.removeItem(DEVICE_KEY);
}

/** Fired when the server no longer accepts our token (expired, signed out elsewhere). */
export const SESSION_ENDED = 'twofold:session-ended';

/** Fired when the user's role must set up a second factor before doing anything else. */
export const ENROLMENT_REQUIRED = 'twofold:enrolment-required';

export interface CallOptions {
  body?: unknown;
  twoFactor?: TwoFactorAnswer | undefined;
  /** Send the login headers (default: when signed in). */
  auth?: boolean;
}

/** The contract's paths, or another endpoint of the same API (pages added later). */
export type Path = ApiPath | `/api/v1/${string}`;

// How far the server's clock is from this browser's (from each answer's Date header), so
// "valid for 4 more minutes" is counted on the server's time, whatever the phone's clock says.
let clockSkew = 0;
export const serverNow = () => Date.now() + clockSkew;

let info: InfoReply | null = null;
/** The server's public facts (the code lifetime), once per page load; null when unreachable. */
export async function loadInfo(): Promise<InfoReply | null> {
  info ??= await api<InfoReply>('GET', '/api/info', { auth: false }).catch(() => null);
  return info;
}
export const serverInfo = () => info;

export async function api<T = Record<string, unknown>>(method: 'GET' | 'POST', path: Path, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const session = opts.auth === false ? null : getSession();
  if (session) {
    headers['x-user-id'] = session.userId;
    headers['x-auth-token'] = session.authToken;
  }
  if (opts.twoFactor?.method) headers['x-2fa-method'] = opts.twoFactor.method;
  if (opts.twoFactor?.code) headers['x-2fa-code'] = opts.twoFactor.code;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';

  let res: Response;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'omit', cache: 'no-store',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch {
    throw new ApiError(0, 'network');
  }
  const date = Date.parse(res.headers.get('date') ?? '');
  if (Number.isFinite(date)) clockSkew = date - Date.now();
  let body: Record<string, unknown> = {};
  try {
    body = await res.json() as Record<string, unknown>;
  } catch {
    // A proxy's HTML error page: keep the status, the words come from the code below.
  }
  if (res.ok && body.success !== false) return body as T;

  // REST errors carry the code in `errorType`; the login endpoint puts it in `error`.
  const code = String(body.errorType ?? body.error ?? `http-${res.status}`);
  const details = (body.details && typeof body.details === 'object' ? body.details : {}) as Record<string, unknown>;
  const error = new ApiError(res.status, code, details, String(body.message ?? body.error ?? code));
  if (code === 'error-2fa-enrolment-required') window.dispatchEvent(new CustomEvent(ENROLMENT_REQUIRED));
  if (res.status === 401 && session && !code.startsWith('totp-')) {
    setSession(null);
    window.dispatchEvent(new CustomEvent(SESSION_ENDED));
  }
  throw error;
}
