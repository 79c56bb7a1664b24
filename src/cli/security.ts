// `twofold audit` and `twofold rotate-key`.
import { parseArgs } from 'node:util';
import { rotateServerKey } from './rotate-key.ts';
import { UsageError, type Command } from './context.ts';

const AUDIT_LIMIT_MAX = 10_000;

function detailText(details: Record<string, unknown>): string {
  return Object.entries(details).map(([k, v]) => `${k}=${String(v)}`).join(' ');
}

export const auditCommand: Command = {
  name: 'audit',
  args: '[--user <username>] [--limit N]',
  summary: 'the newest second-factor and login events, oldest first',
  details: [
    '--user <username>   only this user\'s events',
    `--limit N           how many (default 50, at most ${AUDIT_LIMIT_MAX})`,
  ],
  async run(args, cli) {
    const { values } = parseArgs({ args, strict: true, options: { user: { type: 'string' }, limit: { type: 'string' } } });
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_LIMIT_MAX) throw new UsageError(`--limit: a whole number from 1 to ${AUDIT_LIMIT_MAX}`);
    const lines = await cli.withApp(async (app) => {
      let userId: string | undefined;
      if (values.user !== undefined) {
        const user = await app.store.users.byUsername(values.user);
        if (!user) throw new UsageError(`no user named ${values.user}`);
        userId = user.id;
      }
      const { events } = await app.store.audit.list({ offset: 0, count: limit, userId });
      // Read like a log: oldest of the newest N first.
      return events.reverse().map((e) => [
        new Date(e.at).toISOString(), e.event.padEnd(24), (e.username ?? e.userId ?? '-').padEnd(16), (e.method ?? '-').padEnd(8),
        e.transport.padEnd(4), (e.clientAddress || '-').padEnd(15), detailText(e.details),
      ].join('  ').trimEnd());
    });
    if (lines.length === 0) return cli.out('no events');
    for (const line of lines) cli.out(line);
  },
};

export const rotateKeyCommand: Command = {
  name: 'rotate-key',
  args: '',
  summary: 're-encrypt TOTP secrets under a new server key (stop every instance first)',
  details: [
    'With a key file (<data dir>/server.key): a new key is generated into it.',
    'With TWOFOLD_SECRET_KEY: set TWOFOLD_NEW_SECRET_KEY to the new key for this command.',
    'Backup codes and live email codes are keyed hashes and cannot be carried over: they are',
    'dropped. See SECURITY.md.',
  ],
  async run(args, cli) {
    parseArgs({ args, strict: true, options: {} });
    const settings = cli.settings();
    const r = await rotateServerKey({
      dataDir: settings.dataDir, databaseUrl: settings.databaseUrl, currentKey: settings.secretKey, newKey: cli.io.env.TWOFOLD_NEW_SECRET_KEY,
    });
    cli.out(`re-encrypted ${r.totpSecrets} TOTP secret(s); dropped the backup codes of ${r.backupCodeUsers} user(s) and ${r.emailCodes} live email code(s)`);
    if (r.keyFile) cli.out(`the new key is in ${r.keyFile}; start the server again`);
    else cli.out('now set TWOFOLD_SECRET_KEY to the value of TWOFOLD_NEW_SECRET_KEY on every instance, then start them');
    if (r.backupCodeUsers > 0) cli.out('users with TOTP must generate new backup codes (their authenticator app keeps working)');
  },
};
