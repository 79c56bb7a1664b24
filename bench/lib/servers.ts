import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { settingsTable, type SettingSpec } from '../../src/config/settings.ts';
import { Child } from './child.ts';

export interface BenchContext {
  tmp: string;
  /** Where --profile puts the Twofold servers' CPU profiles; unset: no profiling. */
  profileDir?: string;
  say(line: string): void;
}

export interface RunningChild {
  name: string;
  child: Child;
  url: string;
  wsUrl: string;
}

export interface TwofoldServer extends RunningChild {
  dataDir: string;
  secretKey: string;
}

const urls = (port: number) => ({ url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/websocket` });

/**
 * Abuse limits that would judge the bench rather than measure Twofold: every login comes
 * from 127.0.0.1 and a handful of names, so the per-address and per-name counters are set
 * to their maximum. The counting itself still happens on every login.
 */
export const LIMITS_RAISED = ['loginFailuresPerUser', 'loginFailuresPerAddress'];

export function raisedLimits(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of LIMITS_RAISED) {
    const spec = (settingsTable as Record<string, SettingSpec>)[key];
    if (spec?.kind === 'int') env[spec.env] = String(spec.max);
  }
  return env;
}

/**
 * Twofold with every setting at its default (whatever this shell exports), except the
 * data directory, the server key, the port and the `overrides` a scenario names (instances
 * that share a database share their key: TWOFOLD_SECRET_KEY among the overrides).
 */
export async function startTwofold(ctx: BenchContext, name: string, overrides: Record<string, string> = {}): Promise<TwofoldServer> {
  const dataDir = join(ctx.tmp, name);
  mkdirSync(dataDir, { recursive: true });
  const secretKey = overrides.TWOFOLD_SECRET_KEY ?? randomBytes(32).toString('base64url');
  const env: Record<string, string> = {};
  for (const spec of Object.values(settingsTable)) env[spec.env] = '';
  Object.assign(env, {
    TWOFOLD_DATA_DIR: dataDir, TWOFOLD_SECRET_KEY: secretKey, PORT: '0', HOST: '127.0.0.1',
    TWOFOLD_LOG_LEVEL: String(settingsTable.logLevel.default), ...raisedLimits(), ...overrides,
  });
  const nodeArgs = ctx.profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(ctx.profileDir, name)] : [];
  const child = Child.start(name, 'server-entry.ts', { env, logFile: join(ctx.tmp, `${name}.log`), nodeArgs });
  const ready = await child.next<{ type: 'ready'; port: number }>('ready');
  return { name, child, dataDir, secretKey, ...urls(ready.port) };
}

/** A ceiling server (Fastify or ws), logging like Twofold to a file of its own. */
export async function startCeiling(ctx: BenchContext, name: string, script: string): Promise<RunningChild> {
  const child = Child.start(name, script, {
    env: { TWOFOLD_LOG_LEVEL: String(settingsTable.logLevel.default) },
    logFile: join(ctx.tmp, `${name}.log`),
  });
  const ready = await child.next<{ type: 'ready'; port: number }>('ready');
  return { name, child, ...urls(ready.port) };
}

/** A load generator or the argon2 ceiling: no log file, its errors on our stderr. */
export async function startWorker(name: string, script: string): Promise<Child> {
  const child = Child.start(name, script);
  await child.next('ready');
  return child;
}
