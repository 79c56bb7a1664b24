import { type Kysely, type Migration, type MigrationProvider, Migrator, PostgresAdapter, sql } from 'kysely';

// Migrations are code, listed in order; they run on every start and are idempotent by
// Kysely's bookkeeping table (with a lock, so several instances may start at once).
const migrations: Record<string, Migration> = {
  '0001_accounts_sessions_2fa_messages': {
    async up(db: Kysely<any>) {
      await db.schema.createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('username_lower', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('require_password_change', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('email2fa_enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('totp_enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('totp_secret', 'text')
        .addColumn('totp_pending_secret', 'text')
        .addColumn('totp_last_step', 'bigint')
        .execute();
      await db.schema.createTable('user_emails')
        .addColumn('address_lower', 'text', (c) => c.primaryKey())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('verified', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('user_emails_user').on('user_emails').column('user_id').execute();
      await db.schema.createTable('login_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('bypass_2fa', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('twofa_until', 'bigint')
        .addColumn('twofa_fingerprint', 'text')
        .execute();
      await db.schema.createIndex('login_tokens_user').on('login_tokens').column('user_id').execute();
      await db.schema.createTable('email_verifications')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('address_lower', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('email_codes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('email_codes_user').on('email_codes').columns(['user_id', 'created_at']).execute();
      await db.schema.createTable('backup_codes')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('backup_codes_pk', ['user_id', 'code_hash'])
        .execute();
      await db.schema.createTable('twofa_failures')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('twofa_failures_user').on('twofa_failures').columns(['user_id', 'at']).execute();
      await db.schema.createTable('rooms')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('room_members')
        .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('joined_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('room_members_pk', ['room_id', 'user_id'])
        .execute();
      await db.schema.createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('rid', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('msg', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('edited_at', 'bigint')
        .addColumn('edited_by', 'text')
        .addColumn('pinned', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('pinned_at', 'bigint')
        .addColumn('pinned_by', 'text')
        .execute();
      await db.schema.createIndex('messages_room_ts').on('messages').columns(['rid', 'ts']).execute();
    },
  },
  '0002_personal_access_tokens': {
    async up(db: Kysely<any>) {
      // Shown in the token list so a user can tell tokens apart; the token itself is never stored.
      await db.schema.alterTable('login_tokens').addColumn('last_token_part', 'text').execute();
      // One name per user decides racing creations; login tokens have no name (NULLs are distinct).
      await db.schema.createIndex('login_tokens_user_name').on('login_tokens').columns(['user_id', 'name']).unique().execute();
    },
  },
  '0003_limits_audit': {
    async up(db: Kysely<any>) {
      // One row per limited thing (a user's code mails, an address's wrong passwords): the
      // times of its recent hits as a JSON array. The row is also the lock that makes
      // check-and-count atomic across instances (spec §3.6).
      await db.schema.createTable('rate_limits')
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('hits', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('rate_limits_pk', ['bucket', 'key'])
        .execute();
      await db.schema.createIndex('rate_limits_expires').on('rate_limits').column('expires_at').execute();
      // No foreign key to users: the trail outlives a deleted account.
      // A database-assigned sequence keeps events of one millisecond in the order they happened.
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
      await db.schema.createTable('audit_events')
        .addColumn('seq', postgres ? 'bigserial' : 'integer', (c) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('method', 'text')
        .addColumn('transport', 'text', (c) => c.notNull())
        .addColumn('client_address', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_events_user').on('audit_events').columns(['user_id', 'seq']).execute();
    },
  },
  '0004_audit_retention_index': {
    async up(db: Kysely<any>) {
      // The hourly retention clean-up deletes by time.
      await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
    },
  },
  '0005_second_factor_state': {
    async up(db: Kysely<any>) {
      // One row per user who ever failed a check: the lock a check is reserved under, the
      // consecutive failures (reset only by a success), the suspension they lead to, the
      // wrong enrolment codes of the pending secret and a self-service recovery code.
      await db.schema.createTable('twofa_user_state')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('failures_in_row', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('suspended_at', 'bigint')
        .addColumn('enrol_failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('recovery_hash', 'text')
        .addColumn('recovery_expires_at', 'bigint')
        .addColumn('recovery_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '0006_login_token_activity': {
    async up(db: Kysely<any>) {
      // What a user needs to recognise a session in their list (issue 14 §5): where and with
      // what it signed in, and roughly when it was last used (updated at most once a minute).
      await db.schema.alterTable('login_tokens').addColumn('last_used_at', 'bigint').execute();
      await db.schema.alterTable('login_tokens').addColumn('client_address', 'text').execute();
      await db.schema.alterTable('login_tokens').addColumn('user_agent', 'text').execute();
    },
  },
  '0007_webauthn_credentials': {
    async up(db: Kysely<any>) {
      // Passkeys and security keys (issue 16 §1): a user's registered credentials, and the
      // challenges handed out for them (short-lived, each spent by one check).
      await db.schema.createTable('webauthn_credentials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('credential_id', 'text', (c) => c.notNull().unique())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('counter', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('transports', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema.createIndex('webauthn_credentials_user').on('webauthn_credentials').column('user_id').execute();
      await db.schema.createTable('webauthn_challenges')
        .addColumn('challenge', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webauthn_challenges_user').on('webauthn_challenges').columns(['user_id', 'expires_at']).execute();
    },
  },
  '0008_remembered_devices': {
    async up(db: Kysely<any>) {
      // "Remember this device" (issue 14 §4): a token kept by the browser that lets a password
      // sign-in of its user skip the second factor. Only its hash is stored; it is bound to the
      // user and to a hash of the browser's user agent, and it expires.
      await db.schema.createTable('remembered_devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('client_address', 'text')
        .addColumn('user_agent', 'text')
        .execute();
      await db.schema.createIndex('remembered_devices_user').on('remembered_devices').columns(['user_id', 'created_at']).execute();
    },
  },
  '0009_session_version': {
    async up(db: Kysely<any>) {
      // Sessions kept in memory (src/store/session-cache.ts) must see every change to what
      // authentication reads, made by any instance. On PostgreSQL each call compares the
      // user's version with the one its copy was read at; triggers bump it in the very
      // transaction of the change, so no write path (present or future) can forget to, and a
      // revocation is visible to every instance as soon as it commits. SQLite has one writer
      // process at a time and sees changes without a read per call (temporary triggers and
      // `PRAGMA data_version`), so the column stays 0 there.
      await db.schema.alterTable('users').addColumn('session_version', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
      await sql`CREATE FUNCTION twofold_users_session_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          NEW.session_version := OLD.session_version + 1;
          RETURN NEW;
        END $$`.execute(db);
      // Any change to the user's row (deactivation, roles, password, methods, the last TOTP
      // step); a bump made by the triggers below is not bumped twice.
      await sql`CREATE TRIGGER users_session_version BEFORE UPDATE ON users FOR EACH ROW
        WHEN (NEW.session_version = OLD.session_version) EXECUTE FUNCTION twofold_users_session_version()`.execute(db);
      await sql`CREATE FUNCTION twofold_bump_session_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' THEN
            UPDATE users SET session_version = session_version + 1 WHERE id = OLD.user_id;
          END IF;
          IF TG_OP = 'INSERT' THEN
            UPDATE users SET session_version = session_version + 1 WHERE id = NEW.user_id;
          ELSIF TG_OP = 'UPDATE' THEN
            IF NEW.user_id IS DISTINCT FROM OLD.user_id THEN
              UPDATE users SET session_version = session_version + 1 WHERE id = NEW.user_id;
            END IF;
          END IF;
          RETURN NULL;
        END $$`.execute(db);
      // A token revoked, or remembered (twofa_until). Not an insert (a new token is in no
      // cache) nor the session list's bookkeeping (last_used_at, client_address, user_agent),
      // which every call may write. A column added to login_tokens later that the session
      // lookup reads must be added to this list by that migration.
      await sql`CREATE TRIGGER login_tokens_session_version AFTER DELETE OR UPDATE OF
        token_hash, user_id, kind, name, bypass_2fa, created_at, expires_at, twofa_until, twofa_fingerprint, last_token_part
        ON login_tokens FOR EACH ROW EXECUTE FUNCTION twofold_bump_session_version()`.execute(db);
      await sql`CREATE TRIGGER user_emails_session_version AFTER INSERT OR UPDATE OR DELETE
        ON user_emails FOR EACH ROW EXECUTE FUNCTION twofold_bump_session_version()`.execute(db);
      // Authentication reads only how many passkeys a user has.
      await sql`CREATE TRIGGER webauthn_credentials_session_version AFTER INSERT OR DELETE OR UPDATE OF user_id
        ON webauthn_credentials FOR EACH ROW EXECUTE FUNCTION twofold_bump_session_version()`.execute(db);
    },
  },
};

class StaticProvider implements MigrationProvider {
  async getMigrations() {
    return migrations;
  }
}

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
