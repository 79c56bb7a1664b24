// Every REST call and every DDP method authenticates its token; reading the session from the
// database each time was most of a cheap call's cost (BENCHMARKS.md, (1) and (4)). Sessions
// are kept in memory, keyed by the token's hash (never the token), under one rule: once a
// change to a session (a token revoked or remembered, a user deactivated, a second factor
// or an email changed…) has been committed, no call that starts afterwards is answered
// from the old copy, in this process, in another process on the same SQLite file, or on
// another instance on the same PostgreSQL. SECURITY.md ("A call's session in memory")
// explains it for operators.

import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { OpenDatabase } from './database.ts';
import type { Database } from './schema.ts';
import { readLiveSession, sessionVersion, type LiveSession } from './sessions.ts';

export interface SessionLookup {
  /** The live session of a token hash (unknown or expired: null), as `findLiveSession` reads it. */
  find(tokenHash: string, now: number): Promise<LiveSession | null>;
}

interface Entry {
  session: LiveSession;
  /** PostgreSQL: the user's session_version the copy was read at. */
  version: number;
  cachedAt: number;
}

/**
 * The copies themselves: bounded in number (the oldest goes first) and in age. `generation`
 * moves on every drop, so that a read which overlapped a change does not store what it read
 * (it may have read the state from before the change).
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byUser = new Map<string, Set<string>>();
  private generation = 0;

  constructor(readonly maxEntries: number, readonly maxAgeMs: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(tokenHash: string, now: number): Entry | undefined {
    const entry = this.entries.get(tokenHash);
    if (!entry) return undefined;
    const { expiresAt } = entry.session.token;
    // A clock that went back counts as too old: the copy's age is then unknown.
    if (now - entry.cachedAt >= this.maxAgeMs || now < entry.cachedAt || (expiresAt !== null && expiresAt <= now)) {
      this.remove(tokenHash, entry);
      return undefined;
    }
    return entry;
  }

  /** Taken before a read; `put` stores the read's result only if nothing was dropped since. */
  mark(): number {
    return this.generation;
  }

  put(tokenHash: string, session: LiveSession, version: number, now: number, mark: number): void {
    if (mark !== this.generation || this.maxEntries === 0) return;
    const old = this.entries.get(tokenHash);
    if (old) this.remove(tokenHash, old);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value!;
      this.remove(oldest, this.entries.get(oldest)!);
    }
    this.entries.set(tokenHash, { session: frozen(session), version, cachedAt: now });
    const userId = session.user.id;
    let hashes = this.byUser.get(userId);
    if (!hashes) this.byUser.set(userId, (hashes = new Set()));
    hashes.add(tokenHash);
  }

  dropUser(userId: string): void {
    this.generation++;
    const hashes = this.byUser.get(userId);
    if (!hashes) return;
    for (const hash of hashes) this.entries.delete(hash);
    this.byUser.delete(userId);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
    this.byUser.clear();
  }

  private remove(tokenHash: string, entry: Entry): void {
    this.entries.delete(tokenHash);
    const hashes = this.byUser.get(entry.session.user.id);
    hashes?.delete(tokenHash);
    if (hashes?.size === 0) this.byUser.delete(entry.session.user.id);
  }
}

/** One copy serves many calls: a caller that changed it would change every later call's view. */
function frozen(session: LiveSession): LiveSession {
  const { token, user } = session;
  for (const e of user.emails) Object.freeze(e);
  Object.freeze(user.emails);
  Object.freeze(user.roles);
  return Object.freeze({ token: Object.freeze(token), user: Object.freeze(user) });
}

export interface SessionCacheOptions {
  /** Most sessions kept; 0: none, every call reads the database. */
  maxEntries: number;
  maxAgeMs: number;
}

/**
 * How this store finds sessions. SQLite: a copy is used with no SQL at all, because every
 * change is seen as it is made (temporary triggers on this connection) or, when another
 * process made it, by `PRAGMA data_version` (read at the first call of each event-loop
 * turn). PostgreSQL: a copy is used only after one indexed read confirms the user's
 * session_version, which triggers bump in the transaction of every change, whichever
 * instance made it (migration 0009).
 */
export function sessionLookup(opened: OpenDatabase, options: SessionCacheOptions): SessionLookup & { cache: SessionCache | null } {
  const { db } = opened;
  if (options.maxEntries === 0) return { cache: null, find: async (hash, now) => (await readLiveSession(db, hash, now))?.session ?? null };
  const cache = new SessionCache(options.maxEntries, options.maxAgeMs);
  if (opened.sqlite) return { cache, find: sqliteFind(db, opened.sqlite, cache) };
  return { cache, find: postgresFind(db, cache) };
}

async function readAndKeep(db: Kysely<Database>, cache: SessionCache, tokenHash: string, now: number): Promise<LiveSession | null> {
  const mark = cache.mark();
  const read = await readLiveSession(db, tokenHash, now);
  // Unknown tokens are never kept: a flood of made-up tokens must not push real sessions out.
  if (read) cache.put(tokenHash, read.session, read.version, now, mark);
  return read?.session ?? null;
}

function postgresFind(db: Kysely<Database>, cache: SessionCache): SessionLookup['find'] {
  // Why a read per call rather than LISTEN/NOTIFY alone: a notification reaches the other
  // instances some time after the revoking call was answered, and a call made in that gap
  // would pass. The version read sees every commit made before it starts, so it cannot.
  return async (tokenHash, now) => {
    const hit = cache.get(tokenHash, now);
    if (hit && await sessionVersion(db, hit.session.user.id) === hit.version) return hit.session;
    return readAndKeep(db, cache, tokenHash, now);
  };
}

/** Columns of login_tokens that authentication does not read: the session list's bookkeeping, written by calls themselves. */
const BOOKKEEPING = new Set(['last_used_at', 'client_address', 'user_agent']);

function sqliteFind(db: Kysely<Database>, connection: NonNullable<OpenDatabase['sqlite']>, cache: SessionCache): SessionLookup['find'] {
  const sqlite = connection.writer;
  watchChanges(sqlite, cache, connection.afterBatch);
  // Changes when another connection (the `twofold` command, another server on the same
  // file) commits; this connection's own writes are seen by the triggers. Reading it costs a
  // few microseconds (SQLite takes the WAL index's read lock), as much as the rest of a cached
  // call, so it is read once per turn of the event loop, at the first call of the turn. The
  // calls of one turn are those whose sockets were ready when the loop polled them, before
  // that read: a call sent after another process's commit was answered comes in a later turn
  // (the one exception: more bytes arriving, during that one poll, on a socket that was
  // already ready, e.g. a second DDP method sent without waiting for the first's answer).
  const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
  let seen = dataVersion.get();
  let checked = false;
  const nextTurn = () => { checked = false; };
  return async (tokenHash, now) => {
    if (!checked) {
      checked = true;
      setImmediate(nextTurn);
      const version = dataVersion.get();
      if (version !== seen) {
        cache.clear();
        seen = version;
      }
    }
    return cache.get(tokenHash, now)?.session ?? readAndKeep(db, cache, tokenHash, now);
  };
}

/**
 * Temporary triggers (this connection only, never stored in the file) call back into this
 * process on every write to what authentication reads, whichever code made it: the query
 * builder, a precompiled statement, raw SQL or a foreign-key cascade. They run inside the
 * writing statement, before it returns, and again when the write's batch ends, so the copy
 * is gone before the write is answered.
 */
function watchChanges(sqlite: SqliteDatabase.Database, cache: SessionCache, afterBatch: (listener: () => void) => void): void {
  // A write waits in its group-commit batch until the batch commits, and reads meanwhile see
  // the committed (old) state: a lookup in that gap would keep the old copy. So the users
  // changed in a batch are dropped again when it ends, before its callers are answered.
  const changedInBatch = new Set<string>();
  sqlite.function('twofold_session_changed', { deterministic: false }, (userId: unknown) => {
    cache.dropUser(String(userId));
    changedInBatch.add(String(userId));
    return null;
  });
  afterBatch(() => {
    for (const userId of changedInBatch) cache.dropUser(userId);
    changedInBatch.clear();
  });
  const tokenColumns = (sqlite.prepare("SELECT name FROM pragma_table_info('login_tokens')").pluck().all() as string[])
    .filter((c) => !BOOKKEEPING.has(c));
  const triggers: [name: string, event: string, table: string, users: string[]][] = [
    ['users_update', 'UPDATE', 'users', ['OLD.id']],
    ['users_delete', 'DELETE', 'users', ['OLD.id']],
    ['login_tokens_update', `UPDATE OF ${tokenColumns.join(', ')}`, 'login_tokens', ['OLD.user_id', 'NEW.user_id']],
    ['login_tokens_delete', 'DELETE', 'login_tokens', ['OLD.user_id']],
    ['user_emails_insert', 'INSERT', 'user_emails', ['NEW.user_id']],
    ['user_emails_update', 'UPDATE', 'user_emails', ['OLD.user_id', 'NEW.user_id']],
    ['user_emails_delete', 'DELETE', 'user_emails', ['OLD.user_id']],
    // Authentication reads only how many passkeys a user has.
    ['webauthn_insert', 'INSERT', 'webauthn_credentials', ['NEW.user_id']],
    ['webauthn_update', 'UPDATE OF user_id', 'webauthn_credentials', ['OLD.user_id', 'NEW.user_id']],
    ['webauthn_delete', 'DELETE', 'webauthn_credentials', ['OLD.user_id']],
  ];
  for (const [name, event, table, users] of triggers) {
    const calls = users.map((u) => `SELECT twofold_session_changed(${u});`).join(' ');
    sqlite.exec(`CREATE TEMP TRIGGER IF NOT EXISTS twofold_session_${name} AFTER ${event} ON ${table} BEGIN ${calls} END`);
  }
}
