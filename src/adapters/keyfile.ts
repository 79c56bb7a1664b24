import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * The server key: from TWOFOLD_SECRET_KEY, or `<data dir>/server.key` created on first
 * start (mode 0600). Several instances must share one key (set the variable on each).
 */
export function loadServerKey(dataDir: string, fromEnv: string | undefined): { key: Buffer; source: string } {
  if (fromEnv) {
    const key = /^[0-9a-fA-F]{64,}$/.test(fromEnv) ? Buffer.from(fromEnv, 'hex') : Buffer.from(fromEnv, 'base64');
    if (key.length < 32) throw new Error('Setting TWOFOLD_SECRET_KEY: must decode to at least 32 bytes');
    return { key, source: 'TWOFOLD_SECRET_KEY' };
  }
  const file = join(dataDir, 'server.key');
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length < 32) throw new Error(`${file} is damaged: expected at least 32 bytes of base64`);
    return { key, source: file };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // 'wx' fails if another process created it meanwhile; then read theirs.
  try {
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadServerKey(dataDir, undefined);
    throw e;
  }
  return { key, source: file };
}
