// Group commit for SQLite (issue 15 §1). With `synchronous = FULL` every COMMIT waits for the
// disk, and better-sqlite3 waits on the event loop: one commit per write made every code check
// cost at least one fsync, with nothing else running meanwhile. Here the writes of concurrent
// callers share one transaction per event-loop turn: the first write opens it, each Kysely
// transaction becomes a savepoint inside it, and one COMMIT (one fsync) ends it. Every caller
// is answered only after the COMMIT that holds its writes, so an answer still means "on disk";
// a COMMIT that fails fails every caller of that batch.
//
// Reads outside a transaction go to a second, read-only connection: under WAL it sees only
// committed data, so a read never sees (and never has to wait for) a batch that is not yet on
// disk, exactly as reads behaved when every write committed on its own.

import type SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler,
  type DatabaseConnection, type Dialect, type Driver, type Kysely, type QueryCompiler, type QueryResult,
} from 'kysely';

export interface GroupCommitOptions {
  /** How long a batch stays open for more writers, in ms; 0: until the event loop's next turn. */
  delayMs?: number;
  /** A second connection to the same file, for reads outside transactions (opened read-only). */
  reader?: SqliteDatabase.Database;
  /**
   * Makes every committed batch durable (fsync of the WAL), off the event loop; the writer then
   * runs at `synchronous = NORMAL` and each batch's callers are answered once a sync that began
   * after its COMMIT has finished. Unset: the writer's own `synchronous` setting is trusted.
   */
  syncWal?: () => Promise<void>;
}

/** What the driver has done, for tests and the bench. */
export interface GroupCommitStats {
  /** Batches committed. */
  commits: number;
  /** Batches whose COMMIT failed (every caller in them was refused). */
  failedCommits: number;
  /** Callers (a statement or a transaction) whose writes went into a committed batch. */
  committedCallers: number;
  /** WAL syncs made by `syncWal` (each covers every batch committed before it began). */
  syncs: number;
}

const MAX_CACHED_STATEMENTS = 500;

interface CachedStatement {
  statement: SqliteDatabase.Statement;
  /** Reads nothing but committed data may serve it: no write, no pragma. */
  plainRead: boolean;
}

/**
 * Kysely prepares every query anew; for Twofold's small queries SQLite spends about as long
 * preparing as running them (bench: ~15% of a protected call). Statements are reused by
 * their SQL text, which holds no values (Kysely binds them), so the cache stays small; it is
 * bounded all the same. Safe because one query at a time runs on a connection.
 */
function statementCache(db: SqliteDatabase.Database) {
  const statements = new Map<string, CachedStatement>();
  return (source: string): CachedStatement => {
    let cached = statements.get(source);
    if (!cached) {
      const statement = db.prepare(source);
      cached = { statement, plainRead: statement.readonly && !/^\s*pragma\b/i.test(source) };
      if (statements.size >= MAX_CACHED_STATEMENTS) statements.delete(statements.keys().next().value!);
      statements.set(source, cached);
    }
    return cached;
  };
}

function run(statement: SqliteDatabase.Statement, parameters: readonly unknown[]): QueryResult<unknown> {
  if (statement.reader) return { rows: statement.all(parameters) };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}

/** One transaction shared by the writers of one turn. */
class Batch {
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;
  members = 0;
  failure: unknown = null;

  constructor() {
    this.done = new Promise<void>((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
    // Members hear of a failure when they await `done`; until then it is not unhandled.
    this.done.catch(() => {});
  }
}

/** First come, first served: the batch's COMMIT waits its turn behind the callers already waiting. */
class Mutex {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  lock(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  unlock(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}

const SAVEPOINT = 'twofold_caller';

/** One holder of the connection (a statement or a transaction, from Kysely's acquire to release). */
class Lease implements DatabaseConnection {
  batch: Batch | null = null;
  inTransaction = false;

  constructor(private readonly driver: GroupCommitDriver) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.execute(this, query) as QueryResult<R>;
  }

  // Twofold streams nothing; a plain read serves Kysely's contract.
  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield this.driver.execute(this, query) as QueryResult<R>;
  }
}

export class GroupCommitDriver implements Driver {
  readonly stats: GroupCommitStats = { commits: 0, failedCommits: 0, committedCallers: 0, syncs: 0 };
  private readonly mutex = new Mutex();
  private readonly writes: (source: string) => CachedStatement;
  private readonly reads: ((source: string) => CachedStatement) | null;
  private batch: Batch | null = null;
  private commitScheduled = false;
  private readonly batchListeners: (() => void)[] = [];
  /** Committed batches waiting for a sync that began after their COMMIT. */
  private unsynced: Batch[] = [];
  private syncing: Promise<void> | null = null;
  /** A WAL sync failed: what was written since may not be on disk, whatever later syncs say. */
  private syncFailure: unknown = null;

  constructor(private readonly writer: SqliteDatabase.Database, private readonly options: GroupCommitOptions = {}) {
    this.writes = statementCache(writer);
    this.reads = options.reader ? statementCache(options.reader) : null;
  }

  async init(): Promise<void> {}

  /** Called when a batch has ended (committed or not), before any of its callers is answered. */
  afterBatch(listener: () => void): void {
    this.batchListeners.push(listener);
  }

  private batchEnded(): void {
    for (const listener of this.batchListeners) listener();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.mutex.lock();
    return new Lease(this);
  }

  execute(lease: Lease, query: CompiledQuery): QueryResult<unknown> {
    const cached = this.writes(query.sql);
    if (!lease.inTransaction && lease.batch === null && cached.plainRead) {
      // Nothing of this caller is waiting to be committed: committed data is what it may see.
      return this.reads ? run(this.reads(query.sql).statement, query.parameters) : run(cached.statement, query.parameters);
    }
    this.join(lease);
    try {
      return run(cached.statement, query.parameters);
    } catch (error) {
      this.checkAlive(error);
      throw error;
    }
  }

  /** Puts the lease's writes into the open batch, opening one if none is. */
  private join(lease: Lease): void {
    if (lease.batch !== null) {
      // Its earlier writes went with a batch that failed: nothing it does now can stand.
      if (lease.batch !== this.batch) throw lease.batch.failure ?? new Error('the batch of this transaction is gone');
      return;
    }
    if (this.batch === null) {
      // After a failed fsync the kernel may have dropped the pages it could not write and a
      // later fsync may succeed without them: no write can be called durable any more, so
      // every one is refused until the server is restarted (and SQLite recovers from the WAL).
      if (this.syncFailure !== null) throw this.syncFailure;
      this.writer.exec('BEGIN IMMEDIATE');
      this.batch = new Batch();
    }
    lease.batch = this.batch;
    this.batch.members++;
  }

  /**
   * Some errors (a full disk, I/O) make SQLite roll back the whole transaction: the batch's
   * earlier writes are gone, so every member of it must fail, and later writers start anew.
   */
  private checkAlive(error: unknown): void {
    const b = this.batch;
    if (b && !this.writer.inTransaction) {
      this.batch = null;
      b.failure = error;
      this.stats.failedCommits++;
      this.batchEnded();
      b.reject(error);
    }
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    this.join(lease);
    this.writer.exec(`SAVEPOINT ${SAVEPOINT}`);
    lease.inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    lease.inTransaction = false;
    if (lease.batch !== this.batch) throw lease.batch?.failure ?? new Error('the batch of this transaction is gone');
    this.writer.exec(`RELEASE ${SAVEPOINT}`);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    lease.inTransaction = false;
    // The batch may be gone already (the error that got us here rolled it back).
    if (lease.batch !== this.batch || !this.writer.inTransaction) return;
    this.writer.exec(`ROLLBACK TO ${SAVEPOINT}`);
    this.writer.exec(`RELEASE ${SAVEPOINT}`);
  }

  async savepoint(connection: DatabaseConnection, name: string, _compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.nested(connection, 'SAVEPOINT', name);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, _compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.nested(connection, 'ROLLBACK TO', name);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, _compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.nested(connection, 'RELEASE', name);
  }

  private async nested(connection: DatabaseConnection, command: string, name: string) {
    if (!/^\w+$/.test(name)) throw new Error(`savepoint name ${JSON.stringify(name)} is not a plain word`);
    await connection.executeQuery(CompiledQuery.raw(`${command} ${name}`));
  }

  /**
   * Frees the connection at once, so that other callers add their writes to the same batch,
   * and answers this caller only once the batch holding its writes has committed.
   */
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const batch = (connection as Lease).batch;
    this.mutex.unlock();
    if (batch === null) return;
    this.scheduleCommit();
    await batch.done;
  }

  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    // `commit` settles every member itself; nothing is left to report here.
    const commit = () => void this.commit().catch(() => {});
    if (this.options.delayMs) setTimeout(commit, this.options.delayMs);
    else setImmediate(commit);
  }

  /** Waits for no caller to hold the connection (so no savepoint is open), then commits the batch. */
  private async commit(): Promise<void> {
    await this.mutex.lock();
    this.commitScheduled = false;
    const b = this.batch;
    this.batch = null;
    try {
      if (b) this.end(b);
    } finally {
      this.mutex.unlock();
    }
  }

  private end(b: Batch): void {
    try {
      this.writer.exec('COMMIT');
    } catch (error) {
      // A COMMIT refused by a deferred constraint leaves the transaction open: none of it may stay.
      try {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
      } catch {
        // Nothing more to undo here: the members hear of the COMMIT's error below.
      }
      this.stats.failedCommits++;
      this.batchEnded();
      b.reject(error);
      return;
    }
    this.stats.commits++;
    this.stats.committedCallers += b.members;
    // Committed is what readers see from now on, synced or not: the session cache hears of it now.
    this.batchEnded();
    if (!this.options.syncWal) {
      b.resolve();
      return;
    }
    this.unsynced.push(b);
    this.syncNext();
  }

  /**
   * One sync at a time: the batches committed while one runs wait for the next, which then
   * covers them all. The event loop meanwhile serves calls and commits further batches.
   */
  private syncNext(): void {
    if (this.syncing || this.unsynced.length === 0) return;
    const covered = this.unsynced;
    this.unsynced = [];
    if (this.syncFailure !== null) {
      for (const b of covered) b.reject(this.syncFailure);
      return;
    }
    this.syncing = this.options.syncWal!().then(
      () => {
        this.stats.syncs++;
        for (const b of covered) b.resolve();
      },
      // Committed but perhaps not on disk: no caller of these batches may be told it is done.
      (error: unknown) => {
        this.syncFailure ??= error;
        for (const b of covered) b.reject(error);
      },
    ).finally(() => {
      this.syncing = null;
      this.syncNext();
    });
  }

  async destroy(): Promise<void> {
    await this.mutex.lock();
    const b = this.batch;
    this.batch = null;
    if (b) this.end(b);
    while (this.syncing) await this.syncing;
    this.options.reader?.close();
    this.writer.close();
  }
}

/** Kysely's SQLite dialect with the group-commit driver in place of its own. */
export class GroupCommitDialect implements Dialect {
  constructor(readonly driver: GroupCommitDriver) {}
  createAdapter() { return new SqliteAdapter(); }
  createDriver(): Driver { return this.driver; }
  createQueryCompiler() { return new SqliteQueryCompiler(); }
  createIntrospector(db: Kysely<any>) { return new SqliteIntrospector(db); }
}
