import { AuditStore } from './audit.ts';
import { DeviceStore } from './devices.ts';
import { openDatabase, type DatabaseOptions, type OpenDatabase } from './database.ts';
import { RateLimitStore } from './limits.ts';
import { sessionLookup, type SessionCache, type SessionCacheOptions, type SessionLookup } from './session-cache.ts';
import { MessageStore } from './messages.ts';
import { TokenStore } from './tokens.ts';
import { SqlTwoFactorStore } from './twofactor.ts';
import { UserStore } from './users.ts';
import { SqlWebAuthnStore } from './webauthn.ts';

/** Every table behind one object; the same code serves SQLite and PostgreSQL. */
export interface Store extends OpenDatabase {
  users: UserStore;
  tokens: TokenStore;
  twoFactor: SqlTwoFactorStore;
  messages: MessageStore;
  limits: RateLimitStore;
  audit: AuditStore;
  devices: DeviceStore;
  webauthn: SqlWebAuthnStore;
  /** How calls find their session: from memory when it is known to be current (src/store/session-cache.ts). */
  sessions: SessionLookup & { cache: SessionCache | null };
}

export async function openStore(opts: DatabaseOptions & { sessionCache?: SessionCacheOptions }): Promise<Store> {
  const { sessionCache: _sessionCache, ...databaseOptions } = opts;
  const opened = await openDatabase(databaseOptions);
  const users = new UserStore(opened.db);
  const tokens = new TokenStore(opened.db);
  return { ...opened, users, tokens, twoFactor: new SqlTwoFactorStore(opened.db, users, tokens, opened.kind), messages: new MessageStore(opened.db),
    limits: new RateLimitStore(opened.db), audit: new AuditStore(opened.db), devices: new DeviceStore(opened.db),
    webauthn: new SqlWebAuthnStore(opened.db), sessions: sessionLookup(opened, opts.sessionCache ?? { maxEntries: 0, maxAgeMs: 0 }) };
}
