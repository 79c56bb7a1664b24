import type { Insertable, Kysely } from 'kysely';
import type { AuditDetails, AuditEvent, AuditEventName } from '../core/audit.ts';
import { statement } from './compiled.ts';
import type { AuditEventsTable, Database } from './schema.ts';

/** An audit event as stored and as admins read it. */
export interface AuditRecord {
  id: string;
  at: number;
  event: AuditEventName;
  userId: string | null;
  /** The user's current name; null once the account is gone. */
  username: string | null;
  method: string | null;
  transport: string;
  clientAddress: string;
  details: AuditDetails;
}

export interface AuditQuery {
  offset: number;
  count: number;
  userId?: string | undefined;
}

function parseDetails(text: string): AuditDetails {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as AuditDetails) : {};
  } catch {
    return {};
  }
}

// Every column but the generated `seq`: the insert statement of one event binds each.
type AuditRow = Required<Omit<Insertable<AuditEventsTable>, 'seq'>>;

function auditRow(e: AuditEvent, at: number): AuditRow {
  return {
    at,
    event: e.event,
    user_id: e.userId,
    method: e.method ?? null,
    transport: e.client?.transport ?? 'cli',
    client_address: e.client?.address ?? '',
    details: JSON.stringify(e.details ?? {}),
  };
}

// Every code check writes one or two events in its transaction: compiled once (see compiled.ts).
const insertEventStatement = statement('insert an audit event', (db, p: AuditRow) => db.insertInto('audit_events').values({
  at: p.at, event: p.event, user_id: p.user_id, method: p.method, transport: p.transport, client_address: p.client_address, details: p.details,
}));

/**
 * Writes one event with `db`, which may be a transaction: a second-factor check stores its
 * events in the transaction of the check itself, so the event and its effect stand or fall together.
 */
export async function insertAuditEvent(db: Kysely<Database>, e: AuditEvent, at: number): Promise<void> {
  await insertEventStatement.run(db, auditRow(e, at));
}

interface Pending {
  row: AuditRow;
  done: (error?: unknown) => void;
}

/** Most events one statement writes (each batch size is a statement text of its own in the statement cache). */
const MAX_BATCH = 64;

export class AuditStore {
  private pending: Pending[] = [];

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Resolves once the event is committed. Events of concurrent calls are written together
   * (group commit): one statement, one commit, one fsync for all of them instead of one
   * each: under SQLite's synchronous=FULL the audit line was half the commits of a code check.
   */
  insert(e: AuditEvent, at: number): Promise<void> {
    const row = auditRow(e, at);
    return new Promise<void>((resolve, reject) => {
      // The calls running now get to add theirs before the batch is written.
      if (this.pending.length === 0) setImmediate(() => void this.flush());
      this.pending.push({ row, done: (error) => (error === undefined ? resolve() : reject(error)) });
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      try {
        await this.db.insertInto('audit_events').values(batch.map((p) => p.row)).execute();
        for (const p of batch) p.done();
      } catch {
        // One row that cannot be written must not sink the others: each gets its own answer.
        for (const p of batch) {
          try {
            await this.db.insertInto('audit_events').values(p.row).execute();
            p.done();
          } catch (error) {
            p.done(error);
          }
        }
      }
    }
  }

  /** Deletes the events recorded before `cutoff` (retention); returns how many went. */
  async purgeBefore(cutoff: number): Promise<number> {
    const r = await this.db.deleteFrom('audit_events').where('at', '<', cutoff).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Newest first. */
  async list(q: AuditQuery): Promise<{ events: AuditRecord[]; total: number }> {
    let base = this.db.selectFrom('audit_events');
    if (q.userId !== undefined) base = base.where('audit_events.user_id', '=', q.userId);
    const total = await base.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base.leftJoin('users', 'users.id', 'audit_events.user_id')
      .select(['audit_events.seq', 'audit_events.at', 'audit_events.event', 'audit_events.user_id', 'users.username', 'audit_events.method',
        'audit_events.transport', 'audit_events.client_address', 'audit_events.details'])
      .orderBy('audit_events.seq', 'desc').offset(q.offset).limit(q.count).execute();
    return {
      total: Number(total.n),
      events: rows.map((r) => ({
        id: String(r.seq),
        at: Number(r.at),
        event: r.event as AuditEventName,
        userId: r.user_id,
        username: r.username,
        method: r.method,
        transport: r.transport,
        clientAddress: r.client_address,
        details: parseDetails(r.details),
      })),
    };
  }
}
