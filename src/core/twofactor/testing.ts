// A world for the engine's unit tests: fake clock, memory store, a mail sink, real keys.

import { randomBytes } from 'node:crypto';
import { loadSettings } from '../../config/settings.ts';
import type { User } from '../accounts.ts';
import { FakeClock } from '../clock.ts';
import { TwofoldError } from '../errors.ts';
import { cryptoRandom } from '../random.ts';
import { ServerKeys, sha256Hex } from '../secrets.ts';
import { MemoryTwoFactorStore } from './memory-store.ts';
import { hotp, newTotpSecret, totpStep } from './totp.ts';
import type { TwoFactorDeps, TwoFactorSettings } from './types.ts';

export interface SentCode {
  userId: string;
  addresses: string[];
  code: string;
  expiresAt: number;
}

// Stands in for argon2: the engine only needs "does this digest match the stored hash".
const fakeHash = (digest: string) => `fake$${digest}`;

export function engineWorld(overrides: Partial<TwoFactorSettings> = {}) {
  const clock = new FakeClock();
  const store = new MemoryTwoFactorStore();
  const keys = new ServerKeys(randomBytes(32));
  const sent: SentCode[] = [];
  const settings: TwoFactorSettings = { ...loadSettings({}), ...overrides };
  const deps: TwoFactorDeps = {
    store, clock, keys, settings, random: cryptoRandom,
    async sendCodeMail(user, addresses, code, expiresAt) {
      sent.push({ userId: user.id, addresses, code, expiresAt });
    },
    async verifyPassword(hash, digest) {
      return hash === fakeHash(digest);
    },
  };
  let serial = 0;

  /** A user with a password and a verified email, old enough to be past the new-user grace. */
  function user(p: Partial<User> & { password?: string } = {}): User {
    const { password = 'correct horse', ...rest } = p;
    serial++;
    return {
      id: `user${serial}`, username: `user${serial}`, name: `User ${serial}`, roles: ['user'], active: true,
      requirePasswordChange: false, createdAt: clock.now() - 86_400_000,
      passwordHash: fakeHash(sha256Hex(password)),
      emails: [{ address: `user${serial}@example.com`, verified: true }],
      email2faEnabled: false, totpEnabled: false, totpSecret: null, totpPendingSecret: null, totpLastStep: null,
      ...rest,
    };
  }

  /** A user enrolled in TOTP; `code()` gives the authenticator's current code. */
  function totpUser(p: Partial<User> = {}) {
    const secret = newTotpSecret(cryptoRandom);
    const u = user({ totpEnabled: true, totpSecret: keys.encrypt(secret, cryptoRandom), ...p });
    return { user: u, code: (stepOffset = 0) => hotp(secret, totpStep(clock.now()) + stepOffset) };
  }

  const lastCode = (u: User) => {
    const mine = sent.filter((s) => s.userId === u.id);
    const last = mine[mine.length - 1];
    if (!last) throw new Error(`no code was sent to ${u.username}`);
    return last.code;
  };

  return { clock, store, keys, sent, settings, deps, user, totpUser, lastCode };
}

/** The TwofoldError a promise rejects with. */
export async function rejection(promise: Promise<unknown>): Promise<TwofoldError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof TwofoldError) return e;
    throw e;
  }
  throw new Error('expected a TwofoldError, but the call passed');
}
