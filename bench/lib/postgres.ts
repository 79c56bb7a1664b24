// A PostgreSQL database for the scale phase, as .ci/run makes one: a throwaway cluster
// (initdb as the postgres account when running as root, trust auth, a free loopback port,
// fsync on) that is stopped and deleted at the end. With BENCH_DATABASE_URL set, a fresh
// database is created on that server instead, and dropped at the end.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface BenchDatabase {
  url: string;
  /** Where it came from, for the report. */
  origin: string;
  close(): Promise<void>;
}

function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))) : [];
  versions.sort((a, b) => Number(a) - Number(b));
  if (versions.length) return join(root, versions.at(-1)!, 'bin');
  try {
    return execFileSync('sh', ['-c', 'dirname "$(command -v pg_ctl)"'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('no PostgreSQL found (pg_ctl): install it, or set BENCH_DATABASE_URL');
  }
}

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer();
  s.on('error', reject);
  s.listen(0, '127.0.0.1', () => {
    const port = (s.address() as { port: number }).port;
    s.close(() => resolve(port));
  });
});

async function freshDatabaseOn(serverUrl: string): Promise<BenchDatabase> {
  const name = `twofold_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    origin: 'a fresh database on BENCH_DATABASE_URL',
    close: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** The server's durability settings, which decide what a commit costs: for the report. */
async function durability(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const show = async (name: string) => String((await c.query(`SHOW ${name}`)).rows[0]?.[name]);
    return `PostgreSQL ${await show('server_version')}, fsync ${await show('fsync')}, synchronous_commit ${await show('synchronous_commit')}`;
  } finally {
    await c.end();
  }
}

export async function benchDatabase(say: (line: string) => void): Promise<BenchDatabase> {
  const db = await startOrCreate(say);
  try {
    return { ...db, origin: `${db.origin}; ${await durability(db.url)}` };
  } catch (e) {
    await db.close();
    throw e;
  }
}

async function startOrCreate(say: (line: string) => void): Promise<BenchDatabase> {
  const given = process.env.BENCH_DATABASE_URL;
  if (given) return freshDatabaseOn(given);

  const bin = pgBin();
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' });
    } catch {
      execFileSync('useradd', ['--system', '--shell', '/bin/sh', 'postgres']);
    }
  }
  const root = mkdtempSync(join(tmpdir(), 'twofold-bench-pg-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(root, uid, gid);
  }
  // initdb and pg_ctl refuse to run as root: as the postgres account, like .ci/run.
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const run = (cmd: string) => (asRoot
    ? execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', `cd / && ${cmd}`], { stdio: ['ignore', 'ignore', 'pipe'] })
    : execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'] }));
  const port = await freePort();
  const data = join(root, 'data');
  say(`  starting a throwaway PostgreSQL (${bin}) on 127.0.0.1:${port}`);
  run(`${q(join(bin, 'initdb'))} -D ${q(data)} -U twofold --auth=trust -E UTF8`);
  const stop = () => {
    try {
      run(`${q(join(bin, 'pg_ctl'))} -D ${q(data)} -m fast stop`);
    } catch { /* not running */ }
    rmSync(root, { recursive: true, force: true });
  };
  try {
    run(`${q(join(bin, 'pg_ctl'))} -D ${q(data)} -o ${q(`-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on`)} -l ${q(join(root, 'log'))} -w start`);
  } catch (e) {
    stop();
    throw e;
  }
  return { url: `postgres://twofold@127.0.0.1:${port}/postgres`, origin: `a throwaway cluster started like .ci/run's (${bin})`, close: async () => stop() };
}
