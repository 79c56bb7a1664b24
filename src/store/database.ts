import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { migrateToLatest } from './migrations.ts';
import { GroupCommitDialect, GroupCommitDriver, type GroupCommitStats } from './sqlite-group-commit.ts';

export type StoreKind = 'sqlite' | 'postgres';

export interface OpenDatabase {
  db: Kysely<Database>;
  kind: StoreKind;
  /** Where the data lives, with any password removed: safe to log. */
  where: string;
  close(): Promise<void>;
  /** SQLite only: how many batches the group commit made (tests and the bench read it). */
  groupCommit?: GroupCommitStats;
  /** SQLite only: the writing connection and its batches' ends, for the session cache (src/store/session-cache.ts). */
  sqlite?: { writer: SqliteDatabase.Database; afterBatch(listener: () => void): void };
}

// BIGINT columns hold epoch milliseconds, well inside 2^53: read them as numbers.
pg.types.setTypeParser(20, (v) => Number(v));

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** SQLite: how long a group-commit batch waits for more writers, in ms (0: the next event-loop turn). */
  commitDelayMs?: number | undefined;
  /** SQLite: who syncs a COMMIT to disk, Twofold on the thread pool (the default) or SQLite inline (TWOFOLD_SQLITE_SYNC). */
  sync?: 'pool' | 'inline' | undefined;
}

export async function openDatabase(opts: DatabaseOptions): Promise<OpenDatabase> {
  let opened: OpenDatabase;
  if (opts.databaseUrl) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
    // An idle connection that dies (database restart, admin kill) is dropped by the pool and
    // the next query opens a new one; without a listener its error would crash the process.
    pool.on('error', () => {});
    // pool.end() resolves before its connections have closed: count them, so that closing
    // the store really is the end of every connection.
    let open = 0;
    let allClosed: (() => void) | null = null;
    pool.on('connect', () => { open++; });
    pool.on('remove', () => { if (--open === 0) allClosed?.(); });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const url = new URL(opts.databaseUrl);
    url.password = '';
    const close = async () => {
      const closed = open === 0 ? Promise.resolve() : new Promise<void>((resolve) => { allClosed = resolve; });
      await db.destroy();
      await closed;
    };
    opened = { db, kind: 'postgres', where: url.toString(), close };
  } else {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    const file = join(opts.dataDir, 'twofold.db');
    // The database holds password hashes, sealed TOTP secrets and token hashes: owner only.
    // SQLite gives the -wal and -shm files the mode of the database file, so it is created
    // 0600 before SQLite opens it (whatever the umask), and files of an older install are narrowed.
    closeSync(openSync(file, 'a', 0o600));
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    // Every acknowledged commit must survive a crash of the process and of the machine. FULL
    // syncs the WAL inside each COMMIT, holding the event loop for the whole disk wait; with
    // `pool` the COMMIT only writes (NORMAL) and the group commit syncs the WAL on the thread
    // pool before answering, so the disk ends up with what FULL would have written.
    const syncOnPool = (opts.sync ?? 'pool') === 'pool';
    sqlite.pragma(syncOnPool ? 'synchronous = NORMAL' : 'synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // Reads outside transactions see committed data only (see sqlite-group-commit.ts).
    const reader = new SqliteDatabase(file, { readonly: true });
    reader.pragma('busy_timeout = 5000');
    const wal = syncOnPool ? walSyncer(`${file}-wal`) : null;
    const driver = new GroupCommitDriver(sqlite, { reader, delayMs: opts.commitDelayMs ?? 0, syncWal: wal?.sync });
    const db = new Kysely<Database>({ dialect: new GroupCommitDialect(driver) });
    opened = {
      db, kind: 'sqlite', where: file, groupCommit: driver.stats,
      close: async () => {
        await db.destroy();
        await wal?.close();
      },
      sqlite: { writer: sqlite, afterBatch: (listener) => driver.afterBatch(listener) },
    };
  }
  await migrateToLatest(opened.db);
  return opened;
}

/**
 * fsync of the WAL file on libuv's thread pool. The file is opened at the first sync (a
 * COMMIT has created it by then) and kept: SQLite never deletes it while this process holds
 * its connections, and rewinds it in place after a checkpoint, so the handle stays the file.
 */
function walSyncer(path: string): { sync: () => Promise<void>; close: () => Promise<void> } {
  let handle: Promise<FileHandle> | null = null;
  return {
    sync: async () => {
      if (!handle) {
        handle = open(path, 'r');
        // Tried again at the next sync rather than failing every later one.
        handle.catch(() => { handle = null; });
      }
      await (await handle).sync();
    },
    close: async () => {
      if (handle) await (await handle).close();
    },
  };
}
