import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Settings } from './config/settings.ts';
import { systemClock, type Clock } from './core/clock.ts';
import { cryptoRandom, type Random } from './core/random.ts';
import { ServerKeys } from './core/secrets.ts';
import type { TwoFactorDeps } from './core/twofactor/types.ts';
import { outboxMailer, smtpMailer, type Mailer } from './mail/mailer.ts';
import { authenticationCodeMail, suspendedMail } from './mail/templates.ts';
import { openStore, type Store } from './store/index.ts';
import { auditLogLine, auditRecorder } from './adapters/audit-log.ts';
import { loadServerKey } from './adapters/keyfile.ts';
import { codeSendLimits } from './adapters/code-send-limits.ts';
import { argon2Hasher, type PasswordHasher } from './adapters/passwords.ts';

/** Everything an operation may use, built once at start-up and passed down. */
export interface App {
  settings: Settings;
  store: Store;
  keys: ServerKeys;
  clock: Clock;
  random: Random;
  mailer: Mailer;
  passwords: PasswordHasher;
  log: Logger;
  /**
   * The second-factor engine's dependencies (its store, limits, audit, mail, clock, …), passed
   * to the engine's functions. Not the policy (an operation's `secondFactor`) nor the caller's
   * answer (`ctx.answer`).
   */
  engineDeps: TwoFactorDeps;
  version: string;
  outboxDir: string;
  /** Base of links sent by mail. */
  publicUrl(): string;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';

export interface AppOverrides {
  clock?: Clock;
  random?: Random;
  log?: Logger;
  mailer?: Mailer;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}

export function loggerOptions(level: string): pino.LoggerOptions {
  return {
    level,
    // Belt and braces: even if a secret ends up in a logged object, these keys are cut.
    redact: {
      paths: ['password', '*.password', 'code', '*.code', 'token', '*.token', 'authToken', '*.authToken',
        'req.headers["x-auth-token"]', 'req.headers["x-2fa-code"]', 'req.headers.authorization', 'secret', '*.secret'],
      censor: '[redacted]',
    },
  };
}

const publicUrlOf = (settings: Settings) =>
  settings.publicUrl ?? `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`;

export async function createApp(settings: Settings, overrides: AppOverrides = {}): Promise<App> {
  const log = overrides.log ?? createLogger(settings.logLevel);
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? cryptoRandom;
  const { key, source } = loadServerKey(settings.dataDir, settings.secretKey);
  const keys = new ServerKeys(key);
  const store = await openStore({
    databaseUrl: settings.databaseUrl, dataDir: settings.dataDir, commitDelayMs: settings.sqliteCommitDelay,
    sync: settings.sqliteSync as 'pool' | 'inline',
    sessionCache: { maxEntries: settings.sessionCacheSize, maxAgeMs: settings.sessionCacheMaxAge * 1000 },
  });
  log.info({ store: store.kind, where: store.where, serverKey: source === 'TWOFOLD_SECRET_KEY' ? source : 'file' }, 'store ready');
  const outboxDir = join(settings.dataDir, 'outbox');
  const mailer = overrides.mailer ?? (settings.smtpUrl
    ? smtpMailer(settings.smtpUrl, settings.mailFrom, log)
    : outboxMailer(outboxDir, settings.mailFrom, log));
  const passwords = argon2Hasher({ memoryKib: settings.argon2MemoryKib, iterations: settings.argon2Iterations, concurrency: settings.argon2Concurrency });

  const audit = auditRecorder(store.audit, clock, log);
  // Read when used: the port of a server started on port 0 is known only once it listens.
  const origin = () => new URL(settings.webauthnOrigin ?? publicUrlOf(settings)).origin;
  const engineDeps: TwoFactorDeps = {
    store: store.twoFactor,
    limits: codeSendLimits(store.limits, settings, clock, audit),
    audit,
    auditLogged: auditLogLine(log),
    clock,
    random,
    keys,
    settings,
    async sendCodeMail(user, addresses, code, expiresAt) {
      const minutes = Math.max(1, Math.round((expiresAt - clock.now()) / 60_000));
      await Promise.all(addresses.map((to) => mailer.send(authenticationCodeMail(to, user.username, code, minutes))));
    },
    async sendSuspendedMail(user, addresses) {
      await Promise.all(addresses.map((to) => mailer.send(suspendedMail(to, user.username, settings.maxConsecutiveFailures))));
    },
    verifyPassword: (hash, digest) => passwords.verify(hash, digest),
    webauthn: {
      store: store.webauthn,
      get origin() { return origin(); },
      get rpId() { return settings.webauthnRpId ?? new URL(origin()).hostname.replace(/^\[|\]$/g, ''); },
      rpName: settings.totpIssuer,
      challengeTtl: settings.webauthnChallengeTtl,
      maxLiveChallenges: settings.webauthnMaxLiveChallenges,
    },
  };

  return {
    settings, store, keys, clock, random, mailer, passwords, log, engineDeps, version: VERSION, outboxDir,
    publicUrl: () => publicUrlOf(settings),
    async close() {
      mailer.close();
      await store.close();
    },
  };
}
