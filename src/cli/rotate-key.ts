import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SettingError } from '../config/settings.ts';
import { cryptoRandom } from '../core/random.ts';
import { ServerKeys } from '../core/secrets.ts';
import { openStore } from '../store/index.ts';
import { rotateKeyedData, type RotationCounts } from '../store/key-rotation.ts';
import { loadServerKey } from '../adapters/keyfile.ts';

export interface RotateKeyOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  /** TWOFOLD_SECRET_KEY: when set, the current key comes from it and the new one must be given. */
  currentKey?: string | undefined;
  /** TWOFOLD_NEW_SECRET_KEY. */
  newKey?: string | undefined;
}

export interface RotationResult extends RotationCounts {
  /** Where the new key was written, or null when the operator keeps it (TWOFOLD_SECRET_KEY). */
  keyFile: string | null;
}

function fsyncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The new key for a key file: written next to the old one before the database changes, so
 * that a crash in between can be finished by running the rotation again.
 */
function pendingFileKey(dataDir: string): { key: Buffer; file: string } {
  const file = join(dataDir, 'server.key.new');
  if (existsSync(file)) return { key: Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'), file };
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  fsyncPath(file, 'r');
  return { key, file };
}

/**
 * Re-encrypts every TOTP secret under a new server key and drops what cannot be carried
 * over (keyed hashes of backup and email codes). Every instance must be stopped first.
 */
export async function rotateServerKey(opts: RotateKeyOptions): Promise<RotationResult> {
  const current = loadServerKey(opts.dataDir, opts.currentKey);
  let next: { key: Buffer; file: string | null };
  if (opts.currentKey) {
    if (!opts.newKey) throw new SettingError('TWOFOLD_NEW_SECRET_KEY', 'required when the key comes from TWOFOLD_SECRET_KEY');
    next = { key: loadServerKey(opts.dataDir, opts.newKey).key, file: null };
  } else {
    if (opts.newKey) throw new SettingError('TWOFOLD_NEW_SECRET_KEY', 'only for a key kept in TWOFOLD_SECRET_KEY; a key file gets a generated key');
    next = pendingFileKey(opts.dataDir);
  }
  if (next.key.equals(current.key)) throw new SettingError('TWOFOLD_NEW_SECRET_KEY', 'is the current key');

  const oldKeys = new ServerKeys(current.key);
  const newKeys = new ServerKeys(next.key);
  const reseal = (sealed: string) => {
    try {
      newKeys.decrypt(sealed);
      return sealed; // already moved by an interrupted run
    } catch {
      let plain: string;
      try {
        plain = oldKeys.decrypt(sealed);
      } catch {
        throw new Error('a TOTP secret opens with neither the current nor the new key; nothing was changed');
      }
      return newKeys.encrypt(plain, cryptoRandom);
    }
  };

  const store = await openStore({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir });
  let counts: RotationCounts;
  try {
    counts = await rotateKeyedData(store.db, reseal);
  } finally {
    await store.close();
  }
  if (next.file) {
    const keyFile = join(opts.dataDir, 'server.key');
    renameSync(next.file, keyFile);
    fsyncPath(opts.dataDir, 'r');
    return { ...counts, keyFile };
  }
  return { ...counts, keyFile: null };
}
