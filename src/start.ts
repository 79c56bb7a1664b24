// The server's start-up from an environment, apart from the process (signals, exit), so
// tests run it in-process; src/main.ts is the thin `npm start` around it.
import type { AppOverrides } from './app.ts';
import { settingsFromEnvironment } from './config/environment.ts';
import { SettingError } from './config/settings.ts';
import { startServer, type RunningServer } from './server.ts';

/** sysexits.h EX_CONFIG: the configuration is wrong, retrying will not help. */
export const EX_CONFIG = 78;

/**
 * Warns on `stderr` about each unknown TWOFOLD_* name, then starts the server; with bad
 * settings it reports all of them and starts nothing.
 */
export async function startFromEnvironment(
  env: Record<string, string | undefined>, stderr: (line: string) => void, overrides: AppOverrides = {},
): Promise<RunningServer | { exitCode: number }> {
  let settings;
  try {
    settings = settingsFromEnvironment(env, (line) => stderr(`twofold: ${line}`));
  } catch (e) {
    if (!(e instanceof SettingError)) throw e;
    stderr(`twofold: cannot start: ${e.message}`);
    return { exitCode: EX_CONFIG };
  }
  return startServer(settings, overrides);
}
