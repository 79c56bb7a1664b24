import argon2 from 'argon2';
import { sha256Hex } from '../core/secrets.ts';

export interface PasswordHasher {
  /** Slow hash of the SHA-256 hex digest (spec §1), computed on libuv's thread pool. */
  hash(digest: string): Promise<string>;
  verify(stored: string, digest: string): Promise<boolean>;
}

export function argon2Hasher(opts: { memoryKib: number; iterations: number }): PasswordHasher {
  return {
    hash: (digest) => argon2.hash(digest.toLowerCase(), {
      type: argon2.argon2id, memoryCost: opts.memoryKib, timeCost: opts.iterations, parallelism: 1,
    }),
    async verify(stored, digest) {
      try {
        return await argon2.verify(stored, digest.toLowerCase());
      } catch {
        return false; // a malformed stored hash never verifies
      }
    },
  };
}

/** Clients that send the plaintext (REST login, CLI) are digested like Meteor clients do. */
export const digestPassword = (plaintext: string) => sha256Hex(plaintext);
