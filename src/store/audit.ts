import type { Kysely } from 'kysely';
import type { AuditDetails, AuditEvent, AuditEventName } from '../core/audit.ts';
import type { Database } from './schema.ts';

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

export class AuditStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(e: AuditEvent, at: number): Promise<void> {
    await this.db.insertInto('audit_events').values({
      at,
      event: e.event,
      user_id: e.userId,
      method: e.method ?? null,
      transport: e.client?.transport ?? 'cli',
      client_address: e.client?.address ?? '',
      details: JSON.stringify(e.details ?? {}),
    }).execute();
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
