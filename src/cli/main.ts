// `twofold` — operator commands against the same store and settings as the server.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createApp, type App } from '../app.ts';
import { USERNAME_PATTERN } from '../core/accounts.ts';
import { EMAIL_ADDRESS_RULE, isEmailAddress } from '../core/email-address.ts';
import { isTwofoldError } from '../core/errors.ts';
import { loadSettings, SettingError } from '../config/settings.ts';
import { listOutbox } from '../mail/mailer.ts';
import { join } from 'node:path';
import { createUser } from '../services/accounts.ts';
import { auditCommand, rotateKeyCommand, SECURITY_USAGE } from './security.ts';

const USAGE = `usage:
  twofold user add <username> --password <pw> --email <address> [--name <name>] [--verified] [--admin] [--email-2fa]
  twofold user list
  twofold mail [--last]          list the outbox, or print the newest message
${SECURITY_USAGE}
Settings come from the same environment as the server (TWOFOLD_DATA_DIR, DATABASE_URL, ...).`;

class UsageError extends Error {}

async function withApp<T>(work: (app: App) => Promise<T>): Promise<T> {
  const settings = loadSettings(process.env, { logLevel: 'silent' });
  const app = await createApp(settings, { log: pino({ level: 'silent' }) });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}

async function userAdd(args: string[]) {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: {
      password: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' },
      verified: { type: 'boolean' }, admin: { type: 'boolean' }, 'email-2fa': { type: 'boolean' },
    },
  });
  const [username] = positionals;
  if (!username || positionals.length !== 1) throw new UsageError('user add needs exactly one <username>');
  if (!USERNAME_PATTERN.test(username)) throw new UsageError('username: 1-64 letters, digits, ".", "_" or "-"');
  if (!values.password) throw new UsageError('user add needs --password');
  if (!values.email) throw new UsageError('user add needs --email <address>');
  if (!isEmailAddress(values.email)) throw new UsageError(`--email ${EMAIL_ADDRESS_RULE}`);
  if (values['email-2fa'] && !values.verified) throw new UsageError('--email-2fa needs --verified: codes only go to verified addresses');
  const user = await withApp((app) => createUser(app, {
    username, name: values.name, email: values.email, password: { plain: values.password! },
    verified: values.verified ?? false, roles: values.admin ? ['user', 'admin'] : ['user'], email2fa: values['email-2fa'] ?? false,
  }));
  console.log(`created user ${user.username} (id ${user.id}, email ${user.emails[0]?.address}${user.emails[0]?.verified ? ', verified' : ''}${user.roles.includes('admin') ? ', admin' : ''}${user.email2faEnabled ? ', email 2FA on' : ''})`);
}

async function userList() {
  const users = await withApp((app) => app.store.users.list());
  if (users.length === 0) return console.log('no users');
  const rows = users.map((u) => [
    u.id, u.username, u.emails.map((e) => `${e.address}${e.verified ? '' : ' (unverified)'}`).join(', ') || '-',
    u.roles.join(','), [u.email2faEnabled ? 'email' : '', u.totpEnabled ? 'totp' : ''].filter(Boolean).join(',') || '-',
  ]);
  const header = ['id', 'username', 'emails', 'roles', '2fa'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

function mail(args: string[]) {
  const { values } = parseArgs({ args, strict: true, options: { last: { type: 'boolean' } } });
  const settings = loadSettings(process.env);
  const entries = listOutbox(join(settings.dataDir, 'outbox'));
  if (values.last) {
    const last = entries[entries.length - 1];
    if (!last) return console.log('the outbox is empty');
    process.stdout.write(readFileSync(last.path, 'utf8'));
    return;
  }
  if (entries.length === 0) return console.log('the outbox is empty');
  for (const e of entries) console.log(`${e.file}  to ${e.to}  "${e.subject}"`);
}

async function main(argv: string[]) {
  const [command, sub, ...rest] = argv;
  if (command === 'user' && sub === 'add') return userAdd(rest);
  if (command === 'user' && sub === 'list') return userList();
  if (command === 'mail') return mail(argv.slice(1));
  if (command === 'audit') return auditCommand(argv.slice(1), { withApp, usage: (m) => new UsageError(m) });
  if (command === 'rotate-key') return rotateKeyCommand(argv.slice(1));
  if (command === undefined || command === 'help' || command === '--help') return console.log(USAGE);
  throw new UsageError(`unknown command: ${argv.join(' ')}`);
}

main(process.argv.slice(2)).catch((e) => {
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`twofold: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (e instanceof SettingError || isTwofoldError(e)) {
    console.error(`twofold: ${(e as Error).message}`);
    process.exit(1);
  }
  console.error('twofold:', e);
  process.exit(1);
});
