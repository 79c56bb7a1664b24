// `twofold` — operator commands against the same store and settings as the server.
// `main` returns the exit code instead of exiting, so tests call it in-process.

import { SettingError } from '../config/settings.ts';
import { isTwofoldError } from '../core/errors.ts';
import { cliFor, UsageError, type Command, type CommandGroup, type CliIo } from './context.ts';
import { mailCommand } from './mail.ts';
import { auditCommand, rotateKeyCommand } from './security.ts';
import { userCommands } from './users.ts';

export type { CliIo } from './context.ts';

const commands: (Command | CommandGroup)[] = [userCommands, mailCommand, auditCommand, rotateKeyCommand];

const isGroup = (c: Command | CommandGroup): c is CommandGroup => 'commands' in c;
const line = (path: string, c: Command) => `  twofold ${path}${c.args ? ` ${c.args}` : ''}\n      ${c.summary}`;

const FOOTER = `Run \`twofold <command> --help\` for its options.
Settings come from the same environment as the server (TWOFOLD_DATA_DIR, DATABASE_URL, ...; see docs/settings.md).`;

export function usage(): string {
  const lines = commands.flatMap((c) => (isGroup(c) ? c.commands.map((sub) => line(`${c.name} ${sub.name}`, sub)) : [line(c.name, c)]));
  return `usage: twofold <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n${FOOTER}\n`;
}

function groupUsage(g: CommandGroup): string {
  return `usage: twofold ${g.name} <sub-command> [options]  (${g.summary})\n\nsub-commands:\n${g.commands.map((c) => line(`${g.name} ${c.name}`, c)).join('\n')}\n\nRun \`twofold ${g.name} <sub-command> --help\` for its options.\n`;
}

function commandUsage(path: string, c: Command): string {
  const details = c.details?.length ? `\n\n${c.details.map((d) => `  ${d}`).join('\n')}` : '';
  return `usage: twofold ${path}${c.args ? ` ${c.args}` : ''}\n\n${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.${details}\n`;
}

const wantsHelp = (args: string[]) => {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

/** Finds the command argv names; `help` stands for the usage text to print. */
function resolve(argv: string[]): { help: string } | { command: Command; args: string[]; usage: string } {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') return { help: usage() };
  if (name === 'help') return rest.length === 0 ? { help: usage() } : resolveHelp(rest);
  const top = commands.find((c) => c.name === name);
  if (!top) throw new UsageError(`unknown command: ${name}`, usage());
  if (!isGroup(top)) {
    const text = commandUsage(top.name, top);
    return wantsHelp(rest) ? { help: text } : { command: top, args: rest, usage: text };
  }
  const [subName, ...subArgs] = rest;
  if (subName === undefined || subName === '--help' || subName === '-h') return { help: groupUsage(top) };
  const sub = top.commands.find((c) => c.name === subName);
  if (!sub) throw new UsageError(`unknown sub-command: ${top.name} ${subName}`, groupUsage(top));
  const text = commandUsage(`${top.name} ${sub.name}`, sub);
  return wantsHelp(subArgs) ? { help: text } : { command: sub, args: subArgs, usage: text };
}

function resolveHelp(names: string[]): { help: string } {
  const found = resolve([...names, '--help']);
  if (!('help' in found)) throw new UsageError(`unknown command: ${names.join(' ')}`, usage());
  return found;
}

/** Runs `twofold <argv>`; resolves with the process exit code (0, 1 failure, 2 usage). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const cli = cliFor(io);
  let commandUsageText: string | undefined;
  try {
    const found = resolve(argv);
    if ('help' in found) {
      io.stdout(found.help);
      return 0;
    }
    commandUsageText = found.usage;
    await found.command.run(found.args, cli);
    return 0;
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      const shown = e instanceof UsageError && e.usage ? e.usage : commandUsageText ?? usage();
      io.stderr(`twofold: ${(e as Error).message}\n\n${shown}`);
      return 2;
    }
    if (e instanceof SettingError) {
      io.stderr(`twofold: ${e.message}\n`);
      return 1;
    }
    if (isTwofoldError(e)) {
      io.stderr(`twofold: ${e.message}\n`);
      return 1;
    }
    io.stderr(`twofold: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    return 1;
  }
}
