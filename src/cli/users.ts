// `twofold user add | list | reset-2fa`.
import { parseArgs } from 'node:util';
import { USERNAME_PATTERN } from '../core/accounts.ts';
import { EMAIL_ADDRESS_RULE, isEmailAddress } from '../core/email-address.ts';
import { TwofoldError } from '../core/errors.ts';
import { resetSecondFactors } from '../operations/admin-reset.ts';
import { operationDeps } from '../operations/deps.ts';
import { createUser } from '../operations/shared/accounts.ts';
import { UsageError, type Command, type CommandGroup } from './context.ts';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function oneUsername(positionals: string[], command: string): string {
  const [username] = positionals;
  if (!username || positionals.length !== 1) throw new UsageError(`${command} needs exactly one <username>`);
  if (!USERNAME_PATTERN.test(username)) throw new UsageError('username: 1-64 letters, digits, ".", "_" or "-"');
  return username;
}

const add: Command = {
  name: 'add',
  args: '<username> --password <pw> --email <address> [--name <name>] [--verified] [--admin] [--email-2fa]',
  summary: 'create a user',
  details: [
    '--password <pw>      the password (stored as an argon2id hash)',
    '--email <address>    the user\'s email address',
    '--name <name>        display name (default: the username)',
    '--verified           the address counts as verified',
    '--admin              give the admin role',
    '--email-2fa          switch email codes on (needs --verified)',
  ],
  async run(args, cli) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        password: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' },
        verified: { type: 'boolean' }, admin: { type: 'boolean' }, 'email-2fa': { type: 'boolean' },
      },
    });
    const username = oneUsername(positionals, 'user add');
    if (!values.password) throw new UsageError('user add needs --password');
    if (!values.email) throw new UsageError('user add needs --email <address>');
    if (!isEmailAddress(values.email)) throw new UsageError(`--email ${EMAIL_ADDRESS_RULE}`);
    if (values['email-2fa'] && !values.verified) throw new UsageError('--email-2fa needs --verified: codes only go to verified addresses');
    const user = await cli.withApp((app) => createUser(app, {
      username, name: values.name, email: values.email, password: { plain: values.password! },
      verified: values.verified ?? false, roles: values.admin ? ['user', 'admin'] : ['user'], email2fa: values['email-2fa'] ?? false,
    }));
    const email = user.emails[0];
    cli.out(`created user ${user.username} (id ${user.id}, email ${email?.address}${email?.verified ? ', verified' : ''}${user.roles.includes('admin') ? ', admin' : ''}${user.email2faEnabled ? ', email 2FA on' : ''})`);
  },
};

const list: Command = {
  name: 'list',
  args: '',
  summary: 'list the users with their addresses, roles and second factors',
  async run(args, cli) {
    parseArgs({ args, strict: true, options: {} });
    const users = await cli.withApp((app) => app.store.users.list());
    if (users.length === 0) return cli.out('no users');
    const rows = users.map((u) => [
      u.id, u.username, u.emails.map((e) => `${e.address}${e.verified ? '' : ' (unverified)'}`).join(', ') || '-',
      u.roles.join(','), [u.email2faEnabled ? 'email' : '', u.totpEnabled ? 'totp' : ''].filter(Boolean).join(',') || '-',
    ]);
    const header = ['id', 'username', 'emails', 'roles', '2fa'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [header, ...rows]) cli.out(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  },
};

const reset2fa: Command = {
  name: 'reset-2fa',
  args: '<username>',
  summary: 'turn off all of a user\'s second factors and log them out everywhere',
  details: [
    'For a user who lost their authenticator app and backup codes. Turns off the app (secret,',
    'pending enrolment, backup codes) and email codes, removes passkeys, clears failed-attempt counts, and revokes',
    'every login token and personal access token. The user then logs in with the password and',
    'enrols again. Written to the audit trail as 2fa-reset. Same as POST /api/v1/users.2fa.reset.',
  ],
  async run(args, cli) {
    const { positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {} });
    const username = oneUsername(positionals, 'user reset-2fa');
    const r = await cli.withApp(async (app) => {
      const target = await app.store.users.byUsername(username);
      if (!target) throw new TwofoldError('error-invalid-user', { username }, `no user named ${username}`);
      return resetSecondFactors(operationDeps(app), target, { client: { transport: 'cli', address: '' }, resetBy: 'cli' });
    });
    cli.out(`reset the second factors of ${username}: authenticator app ${r.totp ? 'turned off' : 'was off'}, email codes ${r.email ? 'turned off' : 'were off'}, ${r.passkeys ? `${plural(r.passkeys, 'passkey')} removed` : 'no passkeys'}`);
    cli.out(`revoked ${plural(r.loginTokens, 'login token')} and ${plural(r.personalTokens, 'personal access token')}; ${username} now logs in with the password alone`);
  },
};

export const userCommands: CommandGroup = {
  name: 'user',
  summary: 'manage users',
  commands: [add, list, reset2fa],
};
