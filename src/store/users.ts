import type { Kysely, Selectable } from 'kysely';
import type { User } from '../core/accounts.ts';
import { statement } from './compiled.ts';
import type { Database, UsersTable } from './schema.ts';

export interface NewUser {
  id: string;
  username: string;
  name: string;
  passwordHash: string | null;
  roles: string[];
  createdAt: number;
  emails: { address: string; verified: boolean }[];
  email2faEnabled?: boolean;
}

export type UserPatch = Partial<{
  username: string;
  name: string;
  passwordHash: string | null;
  roles: string[];
  active: boolean;
  requirePasswordChange: boolean;
  email2faEnabled: boolean;
  totpEnabled: boolean;
  totpSecret: string | null;
  totpPendingSecret: string | null;
  totpLastStep: number | null;
}>;

export function toUser(row: Selectable<UsersTable>, emails: { address: string; verified: number }[], webauthnCredentials = 0): User {
  return {
    id: row.id,
    username: row.username,
    name: row.name,
    roles: JSON.parse(row.roles) as string[],
    active: row.active === 1,
    requirePasswordChange: row.require_password_change === 1,
    createdAt: Number(row.created_at),
    passwordHash: row.password_hash,
    emails: emails.map((e) => ({ address: e.address, verified: e.verified === 1 })),
    email2faEnabled: row.email2fa_enabled === 1,
    totpEnabled: row.totp_enabled === 1,
    totpSecret: row.totp_secret,
    totpPendingSecret: row.totp_pending_secret,
    totpLastStep: row.totp_last_step === null ? null : Number(row.totp_last_step),
    webauthnCredentials,
  };
}

const flag = (b: boolean) => (b ? 1 : 0);

// On the path of every TOTP check: compiled once (see compiled.ts).
const acceptTotpStepStatement = statement('accept a TOTP step', (db, p: { userId: string; step: number }) =>
  db.updateTable('users').set({ totp_last_step: p.step })
    .where('id', '=', p.userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', p.step)])));

export class UserStore {
  constructor(private readonly db: Kysely<Database>) {}

  private async withEmails(row: Selectable<UsersTable> | undefined): Promise<User | null> {
    if (!row) return null;
    const emails = await this.db.selectFrom('user_emails').select(['address', 'verified'])
      .where('user_id', '=', row.id).orderBy('created_at').orderBy('address_lower').execute();
    const passkeys = await this.db.selectFrom('webauthn_credentials').select((eb) => eb.fn.countAll().as('n'))
      .where('user_id', '=', row.id).executeTakeFirst();
    return toUser(row, emails, Number(passkeys?.n ?? 0));
  }

  async create(u: NewUser): Promise<User> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('users').values({
        id: u.id,
        username: u.username,
        username_lower: u.username.toLowerCase(),
        name: u.name,
        password_hash: u.passwordHash,
        roles: JSON.stringify(u.roles),
        active: 1,
        require_password_change: 0,
        created_at: u.createdAt,
        email2fa_enabled: flag(u.email2faEnabled ?? false),
        totp_enabled: 0,
        totp_secret: null,
        totp_pending_secret: null,
        totp_last_step: null,
      }).execute();
      for (const [i, e] of u.emails.entries()) {
        await tx.insertInto('user_emails').values({
          address_lower: e.address.toLowerCase(), address: e.address, user_id: u.id,
          verified: flag(e.verified), created_at: u.createdAt + i,
        }).execute();
      }
    });
    return (await this.byId(u.id))!;
  }

  async byId(id: string): Promise<User | null> {
    return this.withEmails(await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst());
  }

  async byUsername(username: string): Promise<User | null> {
    return this.withEmails(await this.db.selectFrom('users').selectAll()
      .where('username_lower', '=', username.toLowerCase()).executeTakeFirst());
  }

  async byEmail(address: string): Promise<User | null> {
    const hit = await this.db.selectFrom('user_emails').select('user_id')
      .where('address_lower', '=', address.toLowerCase()).executeTakeFirst();
    return hit ? this.byId(hit.user_id) : null;
  }

  /** A username, or an email when it contains "@" (Rocket.Chat's `emailOrUsername`). */
  async byEmailOrUsername(value: string): Promise<User | null> {
    return value.includes('@') ? this.byEmail(value) : this.byUsername(value);
  }

  async list(limit = 1000): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('created_at').limit(limit).execute();
    const out: User[] = [];
    for (const row of rows) out.push((await this.withEmails(row))!);
    return out;
  }

  async update(id: string, patch: UserPatch): Promise<void> {
    const set: Partial<Omit<UsersTable, 'session_version'>> = {};
    if (patch.username !== undefined) { set.username = patch.username; set.username_lower = patch.username.toLowerCase(); }
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.passwordHash !== undefined) set.password_hash = patch.passwordHash;
    if (patch.roles !== undefined) set.roles = JSON.stringify(patch.roles);
    if (patch.active !== undefined) set.active = flag(patch.active);
    if (patch.requirePasswordChange !== undefined) set.require_password_change = flag(patch.requirePasswordChange);
    if (patch.email2faEnabled !== undefined) set.email2fa_enabled = flag(patch.email2faEnabled);
    if (patch.totpEnabled !== undefined) set.totp_enabled = flag(patch.totpEnabled);
    if (patch.totpSecret !== undefined) set.totp_secret = patch.totpSecret;
    if (patch.totpPendingSecret !== undefined) set.totp_pending_secret = patch.totpPendingSecret;
    if (patch.totpLastStep !== undefined) set.totp_last_step = patch.totpLastStep;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('users').set(set).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async addEmail(userId: string, address: string, verified: boolean, now: number): Promise<void> {
    await this.db.insertInto('user_emails').values({
      address_lower: address.toLowerCase(), address, user_id: userId, verified: flag(verified), created_at: now,
    }).execute();
  }

  async removeEmail(userId: string, address: string): Promise<boolean> {
    const r = await this.db.deleteFrom('user_emails')
      .where('user_id', '=', userId).where('address_lower', '=', address.toLowerCase()).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async setEmailVerified(userId: string, address: string, verified: boolean): Promise<boolean> {
    const r = await this.db.updateTable('user_emails').set({ verified: flag(verified) })
      .where('user_id', '=', userId).where('address_lower', '=', address.toLowerCase()).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async emailOwner(address: string): Promise<string | null> {
    const hit = await this.db.selectFrom('user_emails').select('user_id')
      .where('address_lower', '=', address.toLowerCase()).executeTakeFirst();
    return hit?.user_id ?? null;
  }

  async count(): Promise<number> {
    const r = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * Accepts a TOTP time step once: succeeds only when it is newer than the last accepted
   * one, in one statement, so concurrent uses of one code cannot both pass (RFC 6238 §5.2).
   */
  async acceptTotpStep(userId: string, step: number): Promise<boolean> {
    const r = await acceptTotpStepStatement.run(this.db, { userId, step });
    return Number(r.numAffectedRows) === 1;
  }
}
