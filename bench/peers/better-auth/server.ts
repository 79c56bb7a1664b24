// The bench's peer: better-auth (email and password, its twoFactor plugin) as a plain Node
// HTTP server, on SQLite through better-sqlite3 in WAL mode with synchronous = FULL, the
// durability Twofold ships with. Everything else is better-auth's default: scrypt for
// passwords, sessions read from the database on every call (no cookie cache), and its
// rate limiter, which is off outside NODE_ENV=production.
//
// better-auth lives in this directory's own node_modules (installed by the bench on first
// use), not in Twofold's dependencies; it is imported by a name in a variable so that the
// project type-checks without it.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { send, serve } from '../../lib/ipc.ts';

const load = (name: string): Promise<any> => import(name);
const [{ betterAuth }, { twoFactor }, { toNodeHandler }, { getMigrations }, sqlite] = await Promise.all([
  load('better-auth'), load('better-auth/plugins'), load('better-auth/node'), load('better-auth/db/migration'), load('better-sqlite3'),
]);

const dataDir = process.env.PEER_DATA_DIR;
if (!dataDir) throw new Error('PEER_DATA_DIR is not set');
const db = new sqlite.default(join(dataDir, 'better-auth.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;

const auth = betterAuth({
  appName: 'twofold-bench-peer',
  baseURL: `http://127.0.0.1:${port}`,
  secret: randomBytes(32).toString('base64url'),
  database: db,
  emailAndPassword: { enabled: true },
  plugins: [twoFactor()],
  telemetry: { enabled: false },
  logger: { level: 'error' },
});
const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

const handler = toNodeHandler(auth);
server.on('request', (req, res) => void handler(req, res));

serve({}, async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  db.close();
});
const installed = join(dirname(fileURLToPath(import.meta.url)), 'node_modules', 'better-auth', 'package.json');
send({ type: 'ready', port, version: String(JSON.parse(readFileSync(installed, 'utf8')).version) });
