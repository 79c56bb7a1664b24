// The peer server (better-auth) is installed apart from Twofold's dependencies, in
// bench/peers/better-auth/node_modules, from its own committed lock file, the first time a
// bench run needs it: `npm install` of the project stays as it is.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Child, benchDir } from './child.ts';
import type { BenchContext, RunningChild } from './servers.ts';

export const PEER_DIR = join(benchDir, 'peers', 'better-auth');

export const peerInstalled = () => existsSync(join(PEER_DIR, 'node_modules', 'better-auth', 'package.json'))
  && existsSync(join(PEER_DIR, 'node_modules', 'better-sqlite3', 'package.json'));

export async function installPeer(ctx: BenchContext): Promise<void> {
  if (peerInstalled()) return;
  ctx.say(`installing the peer (better-auth, better-sqlite3) into ${join('bench', 'peers', 'better-auth', 'node_modules')}: npm ci, once; a minute or two`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  await new Promise<void>((resolve, reject) => {
    execFile(npm, ['ci', '--prefix', PEER_DIR, '--no-audit', '--no-fund'], { maxBuffer: 16 * 2 ** 20 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`npm ci --prefix ${PEER_DIR} failed: ${stderr.slice(-2000)}`));
      else resolve();
    });
  });
  if (!peerInstalled()) throw new Error(`npm ci --prefix ${PEER_DIR} left no better-auth behind`);
  ctx.say('peer installed');
}

export interface PeerServer extends RunningChild {
  version: string;
}

/** The peer in a process of its own, its SQLite file in the run's temporary directory. */
export async function startPeer(ctx: BenchContext, name: string): Promise<PeerServer> {
  const dataDir = join(ctx.tmp, name);
  mkdirSync(dataDir, { recursive: true });
  const child = Child.start(name, join('peers', 'better-auth', 'server.ts'), {
    // NODE_ENV unset, as a plain `node server.js` runs it: better-auth's rate limiter is then off.
    env: { PEER_DATA_DIR: dataDir, NODE_ENV: undefined },
    logFile: join(ctx.tmp, `${name}.log`),
  });
  const ready = await child.next<{ type: 'ready'; port: number; version: string }>('ready');
  return { name, child, version: ready.version, url: `http://127.0.0.1:${ready.port}`, wsUrl: '' };
}
