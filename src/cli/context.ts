// What every `twofold` command gets: its output streams, its environment and the store.
// Commands never touch `process`, so tests run them in-process through `main(argv, io)`.

import pino from 'pino';
import { createApp, type App } from '../app.ts';
import { settingsFromEnvironment } from '../config/environment.ts';
import type { Settings } from '../config/settings.ts';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
}

/** Wrong arguments: the message, then the usage of the command concerned; exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly usage?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Cli {
  io: CliIo;
  /** One line on stdout. */
  out(line?: string): void;
  /** The settings, read once; unknown TWOFOLD_* names are warned about on stderr. */
  settings(): Settings;
  withApp<T>(work: (app: App) => Promise<T>): Promise<T>;
}

export function cliFor(io: CliIo): Cli {
  let settings: Settings | null = null;
  const cli: Cli = {
    io,
    out: (line = '') => io.stdout(`${line}\n`),
    settings() {
      settings ??= settingsFromEnvironment(io.env, (line) => io.stderr(`twofold: ${line}\n`), { logLevel: 'silent' });
      return settings;
    },
    async withApp(work) {
      const app = await createApp(cli.settings(), { log: pino({ level: 'silent' }) });
      try {
        return await work(app);
      } finally {
        await app.close();
      }
    },
  };
  return cli;
}

/** A command or sub-command: how it is called, what it does, and what it runs. */
export interface Command {
  name: string;
  /** Arguments after the command's name, e.g. `<username> [--limit N]`. */
  args: string;
  summary: string;
  /** Option and argument lines for `--help`. */
  details?: string[];
  run(args: string[], cli: Cli): Promise<void>;
}

export interface CommandGroup {
  name: string;
  summary: string;
  commands: Command[];
}
