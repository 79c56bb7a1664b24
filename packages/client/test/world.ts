// What the SDK's tests share: a real server (SQLite or PostgreSQL) on a fake clock, real
// SMTP, users of each kind, and hooks that answer the way a person or a bot would.
import WebSocket from 'ws';
import { twoFactorWorld, type Account, type TwoFactorWorld } from '../../../test/helpers/rest-2fa.ts';
import { codeOf } from '../../../test/helpers/smtp.ts';
import { nextTotp } from '../../../test/helpers/totp.ts';
import { SoftAuthenticator } from '../../../test/helpers/webauthn.ts';
import type { StoreName } from '../../../test/helpers/stores.ts';
import { DdpClient, RestClient, sha256Hex, type ChallengeContext, type ChallengeHook, type DdpClientOptions, type RestClientOptions } from '../src/index.ts';

export interface SdkWorld extends TwoFactorWorld {
  rest(options?: Partial<RestClientOptions>): RestClient;
  ddp(options?: Partial<DdpClientOptions>): Promise<DdpClient>;
  /** A user with an authenticator app, enrolled through the SDK; returns its secret. */
  totpUser(): Promise<Account & { secret: string }>;
  /** A user whose only second factor is a passkey (a software authenticator), registered through the SDK. */
  passkeyUser(): Promise<Account & { key: SoftAuthenticator }>;
  close(): Promise<void>;
}

export async function sdkWorld(store: StoreName): Promise<SdkWorld> {
  const w = await twoFactorWorld(store, {
    // 0: every protected call is asked, so each test sees its own challenge; and the
    // production interval between two "send again" requests, for the 429 tests.
    settings: { rememberFor: 0, sendCodeUserInterval: 60 },
  });
  const clients: DdpClient[] = [];
  const world: SdkWorld = {
    ...w,
    rest: (options = {}) => new RestClient({ url: w.t.url, ...options }),
    async ddp(options = {}) {
      // Node 20 has no global WebSocket: the caller passes `ws`, as the README says.
      const client = await DdpClient.connect({ url: w.t.url, WebSocket, ...options });
      clients.push(client);
      return client;
    },
    async totpUser() {
      const a = await w.plainUser();
      // Without a method of their own, enrolling is confirmed with the password (spec §3.1).
      const client = world.rest({ onChallenge: ({ method }) => (method === 'password' ? sha256Hex(a.password) : null) });
      await client.login(a.username, a.password);
      const { secret } = await client.post<{ secret: string }>('users.totp.enable');
      await client.post('users.totp.validate', { code: nextTotp(w.clock, secret) });
      return { ...a, secret };
    },
    async passkeyUser() {
      const a = await w.plainUser();
      const client = world.rest({ onChallenge: ({ method }) => (method === 'password' ? sha256Hex(a.password) : null) });
      await client.login(a.username, a.password);
      // The relying party is the server's host, the origin its URL, as a browser on that page would report.
      const key = new SoftAuthenticator('127.0.0.1', w.t.url);
      const { options } = await client.post<{ options: { challenge: string } }>('users.webauthn.registerOptions');
      await client.post('users.webauthn.register', { name: 'SDK key', response: key.register(options) });
      return { ...a, key };
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await w.t.close();
    },
  };
  return world;
}

/** Hands out each new code mailed to `address`, oldest first, as a person reading mail would. */
export function mailbox(w: TwoFactorWorld, address: string): () => Promise<string> {
  let seen = w.t.mail.messages.length;
  return async () => {
    const mail = await w.t.mail.waitFor((m) => m.to.includes(address) && m.subject === 'Authentication code', 10_000, seen);
    seen = w.t.mail.messages.indexOf(mail) + 1;
    return codeOf(mail);
  };
}

/** A hook that records what it was told and answers with `answer`. */
export function recordingHook(answer: ChallengeHook): ChallengeHook & { seen: ChallengeContext[] } {
  const seen: ChallengeContext[] = [];
  const hook = (ctx: ChallengeContext) => {
    seen.push(ctx);
    return answer(ctx);
  };
  return Object.assign(hook, { seen });
}

/** The parts of the hook's contexts a test compares. */
export const summary = (seen: ChallengeContext[]) =>
  seen.map(({ method, attempt, transport, error, call }) => ({ method, attempt, transport, error, call }));

export const totpHook = (w: TwoFactorWorld, secret: string): ChallengeHook => () => nextTotp(w.clock, secret);

/** What a browser's passkey does, in Node: the assertion of the challenge's request options, as method `webauthn`. */
export const passkeyHook = (key: SoftAuthenticator): ChallengeHook => ({ details }) =>
  (details.webauthn ? { code: key.assert(details.webauthn as { challenge: string }), method: 'webauthn' } : null);
