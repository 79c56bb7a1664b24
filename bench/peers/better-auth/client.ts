// What a browser does against the peer, over HTTP: sign up, turn on TOTP, confirm it, sign in.
// Sessions are cookies; the TOTP secret comes from the otpauth URI that `enable` answers.

import { hotp, totpStep } from '../../../src/core/twofactor/totp.ts';

export const PEER_PASSWORD = 'bench password';
const AUTH = '/api/auth';

export interface PeerAnswer { status: number; body: string; cookies: string[] }

/** A client of one peer server; `origin` is sent because better-auth checks it on cookie-bearing POSTs. */
export function peerClient(base: string) {
  const call = async (method: 'GET' | 'POST', path: string, body?: object, cookie?: string): Promise<PeerAnswer> => {
    const res = await fetch(`${base}${AUTH}${path}`, {
      method,
      headers: {
        origin: base, 'user-agent': 'twofold-bench',
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(cookie ? { cookie } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    // Only name=value goes back, as a browser sends it.
    const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]!).filter((c) => !c.endsWith('='));
    return { status: res.status, body: await res.text(), cookies };
  };
  const must = (what: string, a: PeerAnswer) => {
    if (a.status !== 200) throw new Error(`peer ${what}: ${a.status} ${a.body.slice(0, 300)}`);
    return a;
  };
  const cookieOf = (a: PeerAnswer) => a.cookies.join('; ');

  return {
    call,
    must,
    cookieOf,
    /** A user without a second factor, signed in: its session cookie. */
    async signUp(name: string): Promise<{ email: string; cookie: string }> {
      const email = `${name}@bench.invalid`;
      const a = must('sign-up', await call('POST', '/sign-up/email', { email, password: PEER_PASSWORD, name }));
      return { email, cookie: cookieOf(a) };
    },
    /** A user with TOTP enabled and confirmed; its session cookie (issued by the confirmation) and secret. */
    async signUpWithTotp(name: string, now = Date.now): Promise<{ email: string; cookie: string; secret: string }> {
      const { email, cookie } = await this.signUp(name);
      const enabled = must('two-factor/enable', await call('POST', '/two-factor/enable', { password: PEER_PASSWORD }, cookie));
      const uri = new URL(String(JSON.parse(enabled.body).totpURI));
      const secret = uri.searchParams.get('secret');
      if (!secret) throw new Error(`peer two-factor/enable: no secret in ${uri.protocol} URI`);
      const verified = must('two-factor/verify-totp', await call('POST', '/two-factor/verify-totp', { code: hotp(secret, totpStep(now())) }, cookie));
      // Confirming TOTP replaces the session by a new one.
      return { email, secret, cookie: cookieOf(verified) || cookie };
    },
  };
}
