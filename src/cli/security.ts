// `twofold audit` and `twofold rotate-key`.
import { parseArgs } from 'node:util';
import type { App } from '../app.ts';
import { loadSettings } from '../config/settings.ts';
import { rotateServerKey } from '../services/rotate-key.ts';

export const SECURITY_USAGE = `  twofold audit [--user <username>] [--limit N]   the newest second-factor and login events (default 50)
  twofold rotate-key             re-encrypt TOTP secrets under a new server key (stop every instance first)`;

export interface CliTools {
  withApp<T>(work: (app: App) => Promise<T>): Promise<T>;
  usage(message: string): Error;
}

const AUDIT_LIMIT_MAX = 10_000;

function detailText(details: Record<string, unknown>): string {
  return Object.entries(details).map(([k, v]) => `${k}=${String(v)}`).join(' ');
}

export async function auditCommand(args: string[], tools: CliTools): Promise<void> {
  const { values } = parseArgs({ args, strict: true, options: { user: { type: 'string' }, limit: { type: 'string' } } });
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_LIMIT_MAX) throw tools.usage(`--limit: a whole number from 1 to ${AUDIT_LIMIT_MAX}`);
  const lines = await tools.withApp(async (app) => {
    let userId: string | undefined;
    if (values.user !== undefined) {
      const user = await app.store.users.byUsername(values.user);
      if (!user) throw tools.usage(`no user named ${values.user}`);
      userId = user.id;
    }
    const { events } = await app.store.audit.list({ offset: 0, count: limit, userId });
    // Read like a log: oldest of the newest N first.
    return events.reverse().map((e) => [
      new Date(e.at).toISOString(), e.event.padEnd(24), (e.username ?? e.userId ?? '-').padEnd(16), (e.method ?? '-').padEnd(8),
      e.transport.padEnd(4), (e.clientAddress || '-').padEnd(15), detailText(e.details),
    ].join('  ').trimEnd());
  });
  if (lines.length === 0) return console.log('no events');
  for (const line of lines) console.log(line);
}

export async function rotateKeyCommand(args: string[]): Promise<void> {
  parseArgs({ args, strict: true, options: {} });
  const settings = loadSettings(process.env, { logLevel: 'silent' });
  const r = await rotateServerKey({
    dataDir: settings.dataDir, databaseUrl: settings.databaseUrl, currentKey: settings.secretKey, newKey: process.env.TWOFOLD_NEW_SECRET_KEY,
  });
  console.log(`re-encrypted ${r.totpSecrets} TOTP secret(s); dropped the backup codes of ${r.backupCodeUsers} user(s) and ${r.emailCodes} live email code(s)`);
  if (r.keyFile) console.log(`the new key is in ${r.keyFile}; start the server again`);
  else console.log('now set TWOFOLD_SECRET_KEY to the value of TWOFOLD_NEW_SECRET_KEY on every instance, then start them');
  if (r.backupCodeUsers > 0) console.log('users with TOTP must generate new backup codes (their authenticator app keeps working)');
}
