// Ceiling C: argon2id with Twofold's parameters (src/services/passwords.ts), as many hashes
// in flight as libuv has threads, so every core is busy; nothing else in the process.
import { createHash } from 'node:crypto';
import argon2 from 'argon2';
import { send, serve } from '../lib/ipc.ts';

interface Run { seconds: number; warmup: number; memoryKib: number; iterations: number; concurrency: number }

async function run({ seconds, warmup, memoryKib, iterations, concurrency }: Run) {
  const digest = createHash('sha256').update('bench password').digest('hex');
  const start = performance.now();
  const from = start + warmup * 1000;
  const until = from + seconds * 1000;
  let hashes = 0;
  const worker = async () => {
    while (performance.now() < until) {
      await argon2.hash(digest, { type: argon2.argon2id, memoryCost: memoryKib, timeCost: iterations, parallelism: 1 });
      const now = performance.now();
      if (now >= from && now <= until) hashes++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { type: 'result', hashes, seconds, perSecond: hashes / seconds };
}

serve({ run: (m: Run) => run(m) });
send({ type: 'ready' });
