// The browser's side of our REST API, through the SDK (@twofold/client, packages/client): its
// REST client sends the calls and its `onChallenge` hook is how a protected call asks for a
// second factor (step-up.ts drives the code prompt from it). The login token lives in
// localStorage (never in a URL or a cookie): a new tab of this browser stays signed in,
// signing out removes it, and the browser never sends it on its own, so other sites cannot
// ride on it. Only our own scripts can read it: the CSP allows scripts from 'self' alone.
import type { ApiPath, InfoReply } from '../../contract/api.ts';
import { RestClient, TwofoldClientError, type ChallengeHook, type ChallengeReply, type RestSession } from '../../../packages/client/src/index.ts';

/** Every failure of a call: the server's stable `code`, its `details`, the HTTP `status`. */
export const ApiError = TwofoldClientError;
export type ApiError = TwofoldClientError;

export type Session = RestSession;

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

function storeSession(s: Session | null): void {
  if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else localStorage.removeItem(SESSION_KEY);
}

export function setSession(s: Session | null): void {
  storeSession(s);
  client.session = s;
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

// How far the server's clock is from this browser's (from each answer's Date header), so
// "valid for 4 more minutes" is counted on the server's time, whatever the phone's clock says.
let clockSkew = 0;
export const serverNow = () => Date.now() + clockSkew;

const watchingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const date = Date.parse(res.headers.get('date') ?? '');
  if (Number.isFinite(date)) clockSkew = date - Date.now();
  return res;
};

/**
 * The page's client. A person answers the prompt, so the server's failure budget is the
 * limit on wrong codes, not the SDK's (which guards programs that guess).
 */
export const client = new RestClient({
  url: '',
  fetch: watchingFetch,
  session: getSession(),
  maxAttempts: 1000,
  onSessionChange(session, why) {
    if (why === 'set') return;
    storeSession(session);
    if (why === 'expired') window.dispatchEvent(new CustomEvent(SESSION_ENDED));
  },
});

/** For calls made without the login headers (signing in, recovery, a link from a mail). */
const anonymous = new RestClient({ url: '', fetch: watchingFetch, maxAttempts: 1000 });

/** How a call answers a second-factor challenge: step-up.ts's prompt, or an answer at hand. */
export interface TwoFactor {
  onChallenge?: ChallengeHook;
  answer?: ChallengeReply;
}

export interface CallOptions {
  body?: unknown;
  twoFactor?: TwoFactor | undefined;
  /** Send the login headers (default: when signed in). */
  auth?: boolean;
}

/** The contract's paths, or another endpoint of the same API (pages added later). */
export type Path = ApiPath | `/api/v1/${string}`;

let info: InfoReply | null = null;
/** The server's public facts (the code lifetime), once per page load; null when unreachable. */
export async function loadInfo(): Promise<InfoReply | null> {
  info ??= await api<InfoReply>('GET', '/api/info', { auth: false }).catch(() => null);
  return info;
}
export const serverInfo = () => info;

const sameSession = (a: Session | null, b: Session | null) => a?.userId === b?.userId && a?.authToken === b?.authToken;

export async function api<T = Record<string, unknown>>(method: 'GET' | 'POST', path: Path, opts: CallOptions = {}): Promise<T> {
  // Another tab may have signed in or out since: localStorage is the one truth.
  const stored = getSession();
  if (!sameSession(client.session, stored)) client.session = stored;
  const via = opts.auth === false ? anonymous : client;
  try {
    return await via.request<T>(method, path, {
      body: opts.body,
      // Without a prompt, a challenge is the caller's to handle (it comes back as the error).
      twoFactor: opts.twoFactor?.onChallenge !== undefined,
      onChallenge: opts.twoFactor?.onChallenge,
      answer: opts.twoFactor?.answer,
    });
  } catch (e) {
    if (e instanceof TwofoldClientError && e.code === 'error-2fa-enrolment-required') window.dispatchEvent(new CustomEvent(ENROLMENT_REQUIRED));
    throw e;
  }
}
