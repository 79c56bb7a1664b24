import type { App } from '../../src/app.ts';

/** Audit events of one kind for one user: each `2fa-failure` is one code that reached a verifier. */
export async function auditCount(app: App, userId: string, event: string): Promise<number> {
  const r = await app.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('user_id', '=', userId).where('event', '=', event).executeTakeFirstOrThrow();
  return Number(r.n);
}
