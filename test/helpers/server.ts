import { rmSync } from 'node:fs';
import pino from 'pino';
import { loadSettings, type Settings } from '../../src/config/settings.ts';
import type { User } from '../../src/core/accounts.ts';
import type { Clock } from '../../src/core/clock.ts';
import { createUser, type CreateUserInput } from '../../src/operations/shared/accounts.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { createLogger } from '../../src/app.ts';
import { scratchDir } from './scratch.ts';
import { MailCatcher } from './smtp.ts';
import { freshPostgresDatabase, type StoreName } from './stores.ts';

export interface TestServer {
  server: RunningServer;
  url: string;
  wsUrl: string;
  mail: MailCatcher;
  store: StoreName;
  dataDir: string;
  addUser(input: Omit<Partial<CreateUserInput>, 'password'> & { username: string; password?: string }): Promise<User>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  store?: StoreName;
  settings?: Partial<Settings>;
  clock?: Clock;
  /** Keep the log (for debugging); default silent. */
  log?: boolean;
  /** Capture the server's log lines (JSON, level info and up). */
  logLines?: string[];
}

/** Send and login limits high enough never to get in the way of a test that is not about them. */
export const relaxedLimits: Partial<Settings> = {
  sendCodeUserInterval: 0, sendCodeUserPerHour: 10_000, sendCodeAddressPerHour: 100_000,
  loginFailuresPerUser: 10_000, loginFailuresPerAddress: 100_000,
  registerAddressPerHour: 100_000, verifyMailAddressPerHour: 100_000, verifyMailTargetInterval: 0, verifyMailTargetPerHour: 10_000,
};

/**
 * A real server on 127.0.0.1 with a free port, a fresh data dir (and a fresh PostgreSQL
 * database for 'postgres'), sending mail over SMTP to a MailCatcher in this process.
 */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const store = opts.store ?? 'sqlite';
  const dataDir = scratchDir('twofold-test-');
  const mail = await new MailCatcher().start();
  const pgdb = store === 'postgres' ? await freshPostgresDatabase() : null;
  const settings = loadSettings({}, {
    port: 0, host: '127.0.0.1', dataDir, smtpUrl: mail.url, databaseUrl: pgdb?.url, logLevel: 'silent',
    // Cheap hashes keep the suite fast; the production defaults are tested in their own test.
    argon2MemoryKib: 1024, argon2Iterations: 1,
    // Tests ask for codes and mistype passwords often; test/limits.test.ts sets the production limits.
    ...relaxedLimits,
    // Most tests are about the challenge that follows a sign-in; test/remember-login.test.ts
    // covers the default, where a sign-in with a second factor counts as recent.
    rememberLogin: false,
    // The DDP keep-alive measures quiet on the injected clock: a test that moves a fake clock
    // by hours must not see its sockets dropped. test/ddp-framing.test.ts sets its own.
    ddpPingInterval: 3600,
    ...opts.settings,
  });
  const server = await startServer(settings, {
    clock: opts.clock,
    log: opts.logLines
      ? createLogger('info', { write: (line: string) => { opts.logLines!.push(line); } })
      : pino({ level: opts.log ? 'debug' : 'silent' }),
  });
  return {
    server, mail, store, dataDir,
    url: server.url,
    wsUrl: `${server.url.replace(/^http/, 'ws')}/websocket`,
    addUser: (input) => createUser(server.app, {
      email: `${input.username}@example.com`, verified: true, name: input.username,
      ...input,
      password: { plain: input.password ?? 'password' },
    }),
    async close() {
      await server.close();
      await mail.close();
      await pgdb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
