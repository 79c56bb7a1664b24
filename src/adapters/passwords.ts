import argon2 from 'argon2';
import { sha256Hex } from '../core/secrets.ts';

export interface PasswordHasher {
  /** Slow hash of the SHA-256 hex digest (spec §1), computed on libuv's thread pool. */
  hash(digest: string): Promise<string>;
  verify(stored: string, digest: string): Promise<boolean>;
}

/** libuv's thread pool size, as Node reads it at start. */
export const threadPoolSize = () => {
  const n = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1024) : 4;
};

/**
 * argon2 runs on libuv's thread pool, which also serves the SQLite WAL sync (every write's
 * acknowledgement), file access and DNS. Without a bound, a flood of logins queues its
 * hashes there and all of those wait behind it; with at most `concurrency` hashes in the
 * pool, the rest wait here and a thread stays free.
 */
export function argon2Hasher(opts: { memoryKib: number; iterations: number; concurrency?: number }): PasswordHasher {
  const slots = new Slots(opts.concurrency || Math.max(1, threadPoolSize() - 1));
  return {
    hash: (digest) => slots.run(() => argon2.hash(digest.toLowerCase(), {
      type: argon2.argon2id, memoryCost: opts.memoryKib, timeCost: opts.iterations, parallelism: 1,
    })),
    async verify(stored, digest) {
      try {
        return await slots.run(() => argon2.verify(stored, digest.toLowerCase()));
      } catch {
        return false; // a malformed stored hash never verifies
      }
    },
  };
}

/** At most `size` tasks at once; the others start in the order they came. */
class Slots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next task: `running` stays as it is.
      if (next) next();
      else this.running--;
    }
  }
}

/** Clients that send the plaintext (REST login, CLI) are digested like Meteor clients do. */
export const digestPassword = (plaintext: string) => sha256Hex(plaintext);
