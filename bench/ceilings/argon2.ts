// Ceiling C: argon2id with Twofold's parameters (src/adapters/passwords.ts), as many hashes
// in flight as libuv has threads, so every core is busy; nothing else in the process.
import { createHash } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
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
  // How late timers fire in this process while its threads hash: the least event-loop delay
  // any server hashing on every core could have on this machine.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  setTimeout(() => delay.enable(), warmup * 1000).unref();
  await Promise.all(Array.from({ length: concurrency }, worker));
  delay.disable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return { type: 'result', hashes, seconds, perSecond: hashes / seconds, delayP99: ms(delay.percentile(99)), delayMax: ms(delay.max) };
}

serve({ run: (m: Run) => run(m) });
send({ type: 'ready' });
