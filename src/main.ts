// `npm start`: settings from the environment, then the server, until SIGTERM/SIGINT.
import { settingsFromEnvironment } from './config/environment.ts';
import { SettingError } from './config/settings.ts';
import { startServer } from './server.ts';

async function main() {
  let settings;
  try {
    settings = settingsFromEnvironment(process.env, (line) => console.error(`twofold: ${line}`));
  } catch (e) {
    if (e instanceof SettingError) {
      console.error(`twofold: cannot start: ${e.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
  const server = await startServer(settings);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(() => process.exit(0), (err) => {
      console.error('twofold: error during shutdown', err);
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e) => {
  console.error(`twofold: cannot start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
