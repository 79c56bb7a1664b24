import pino from 'pino';
import { createApp, type App } from '../../src/app.ts';
import { loadSettings, type Settings } from '../../src/config/settings.ts';
import type { Clock } from '../../src/core/clock.ts';

/**
 * The store as a server process would open it (same data dir, database and key), used by
 * tests to prepare data before starting servers in child processes, or to inspect it after.
 */
export async function withDirectApp<T>(settings: Partial<Settings>, work: (app: App) => Promise<T>, clock?: Clock): Promise<T> {
  const app = await createApp(loadSettings({}, { logLevel: 'silent', argon2MemoryKib: 1024, argon2Iterations: 1, ...settings }), {
    log: pino({ level: 'silent' }), clock,
  });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}
