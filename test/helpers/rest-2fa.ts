// Shared set-up of the REST two-factor tests: a server on a fake clock, users of each
// kind, and a raw HTTP client that sends header names exactly as written (as curl does).

import { request } from 'node:http';
import { FakeClock } from '../../src/core/clock.ts';
import { sha256 } from './ddp.ts';
import { rest, restLogin, type RestResponse } from './rest.ts';
import { startTestServer, type TestServer, type TestServerOptions } from './server.ts';
import type { StoreName } from './stores.ts';

export interface RawResponse {
  status: number;
  body: any;
}

/** One HTTP request with header names spelled as given and the body sent byte for byte. */
export function rawRequest(url: string, method: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export interface Account {
  username: string;
  password: string;
  address: string;
  id: string;
}

export interface Auth {
  userId: string;
  authToken: string;
}

export interface TwoFactorWorld {
  t: TestServer;
  clock: FakeClock;
  /** Moves past the per-user minimum interval between code mails (spec §3.6). */
  tick(): void;
  /** A user with email codes on and one verified address, past the new-user grace. */
  emailUser(extra?: { roles?: string[] }): Promise<Account>;
  /** A user with no second factor (the password fallback applies), past the new-user grace. */
  plainUser(extra?: { roles?: string[] }): Promise<Account>;
  /** Logs an email user in: first attempt mails a code, the second sends it. */
  loginEmailUser(a: Account): Promise<Auth>;
  login(a: Account): Promise<Auth>;
  /** Calls `run` and returns the code of the mail it caused to `a`. */
  codeFrom(a: Account, run: () => Promise<unknown>): Promise<string>;
  call(method: string, path: string, opts?: { body?: unknown; auth?: Auth; headers?: Record<string, string> }): Promise<RestResponse>;
}

let serial = 0;

export async function twoFactorWorld(store: StoreName, opts: Omit<TestServerOptions, 'store' | 'clock'> = {}): Promise<TwoFactorWorld> {
  const clock = new FakeClock();
  const t = await startTestServer({
    store, clock, ...opts,
    // Every test request comes from 127.0.0.1; real deployments see many addresses.
    settings: { sendCodeAddressPerHour: 100_000, ...opts.settings },
  });
  const graceSeconds = t.server.app.settings.rememberFor + 1;
  const tick = () => clock.advance(t.server.app.settings.sendCodeUserInterval + 1);

  async function addAccount(prefix: string, email2fa: boolean, roles?: string[]): Promise<Account> {
    const username = `${prefix}${++serial}`;
    const password = `pw of ${username}`;
    const address = `${username}@example.com`;
    const user = await t.addUser({ username, password, email: address, email2fa, roles });
    clock.advance(graceSeconds);
    return { username, password, address, id: user.id };
  }

  const call: TwoFactorWorld['call'] = (method, path, o = {}) => rest(t.url, method, path, o);
  const codeFrom = (a: Account, run: () => Promise<unknown>) => {
    tick();
    return t.mail.nextCode(a.address, run);
  };

  return {
    t, clock, tick, call, codeFrom,
    emailUser: (extra = {}) => addAccount('mailer', true, extra.roles),
    plainUser: (extra = {}) => addAccount('plain', false, extra.roles),
    login: (a) => restLogin(t.url, a.username, a.password),
    async loginEmailUser(a) {
      const code = await codeFrom(a, () => call('POST', '/api/v1/login', { body: { user: a.username, password: a.password } }));
      return restLogin(t.url, a.username, a.password, code);
    },
  };
}

export const passwordCode = (a: Account) => sha256(a.password);
