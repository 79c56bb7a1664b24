// `npm start`: settings from the environment, then the server, until SIGTERM/SIGINT.
import { startFromEnvironment } from './start.ts';

async function main() {
  const server = await startFromEnvironment(process.env, (line) => console.error(line));
  if ('exitCode' in server) process.exit(server.exitCode);
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
