// `npm run bench`: Twofold against the machine's own ceilings, in one run, on one machine,
// reported as ratios so that figures from a noisy machine still compare. See BENCHMARKS.md.
//
//   npm run bench                      full run (a few minutes on 2 cores)
//   npm run bench -- --smoke           tiny durations and few connections, each ceiling measured
//                                      once, servers shared between phases: checks it all works
//   npm run bench -- --only rest,ddp   some phases only (rest, ddp, login, memory, peer, scale)
//   npm run bench -- --profile         Twofold servers write CPU profiles to bench/results/profiles/
//   npm run bench -- --update-doc      also put the table into BENCHMARKS.md
//   npm run bench -- --out FILE        results JSON here instead of bench/results/
//
// Environment: BENCH_DURATION (s per measurement, default 5), BENCH_WARMUP (s, default 1),
// BENCH_HTTP_CONNECTIONS (default 10), BENCH_IDLE_CONNECTIONS (default 10000),
// BENCH_KEEP=1 keeps the temporary directory (server logs, databases),
// BENCH_DATABASE_URL: a PostgreSQL server for the scale phase (a fresh database is made on it;
// unset: a throwaway cluster is started as .ci/run starts one).
//
// The peer phase installs better-auth into bench/peers/better-auth/node_modules on first use
// (npm ci from its own lock file); the smoke mode skips the peer unless it is installed, and
// the scale phase unless BENCH_DATABASE_URL is set.

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { App } from '../src/app.ts';
import type { Child } from './lib/child.ts';
import { benchDir, repoDir } from './lib/child.ts';
import { describeMachine } from './lib/machine.ts';
import { machineLine, table, type Measure, type Results } from './lib/report.ts';
import { openSeeder } from './lib/seed.ts';
import { raisedLimits, startCeiling, startTwofold, startWorker, type BenchContext, type RunningChild, type TwofoldServer } from './lib/servers.ts';
import { installPeer, peerInstalled, startPeer } from './lib/peer.ts';
import { benchDatabase, type BenchDatabase } from './lib/postgres.ts';
import { pairTable, type PairMeasure } from './lib/report.ts';
import { ddpScenarios } from './scenarios/ddp.ts';
import { loginScenarios } from './scenarios/login.ts';
import { memoryScenario } from './scenarios/memory.ts';
import { peerScenarios, type PeerObserved } from './scenarios/peer.ts';
import { scaleScenario } from './scenarios/scale.ts';
import { PROTECTED_PATH, restScenarios } from './scenarios/rest.ts';

const PHASES = ['rest', 'ddp', 'login', 'memory', 'peer', 'scale'] as const;
/** The phases behind the ceiling table; peer and scale have tables of their own. */
const CEILING_PHASES: readonly Phase[] = ['rest', 'ddp', 'login', 'memory'];
type Phase = (typeof PHASES)[number];

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    only: { type: 'string' },
    'update-doc': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name}=${raw}: expected a number in ${min}..${max}`);
  return n;
}

const smoke = args.smoke === true;
const machine = describeMachine();
const only = new Set<Phase>(args.only ? args.only.split(',').map((p) => {
  if (!(PHASES as readonly string[]).includes(p.trim())) throw new Error(`--only: "${p}" is not one of ${PHASES.join(', ')}`);
  return p.trim() as Phase;
}) : PHASES);
// autocannon ends a run on its once-a-second tick, so whole seconds are what it measures.
const seconds = envNumber('BENCH_DURATION', smoke ? 1 : 5, 1, 120);
const cfg = {
  seconds,
  warmup: envNumber('BENCH_WARMUP', smoke ? 0 : 1, 0, 30),
  httpConnections: envNumber('BENCH_HTTP_CONNECTIONS', smoke ? 4 : 10, 1, 1000),
  ddpConnections: smoke ? [5, 20] : [50, 500],
  // The DDP load is our own generator, which (unlike autocannon) measures fractions of a second.
  ddpSeconds: smoke && !process.env.BENCH_DURATION ? 0.5 : seconds,
  idleConnections: envNumber('BENCH_IDLE_CONNECTIONS', smoke ? 50 : 10_000, 10, 100_000),
  // Twice the hashing threads: every thread always has a login waiting for it.
  loginConnections: 2 * machine.uvThreadpoolSize,
  probeRate: smoke ? 20 : 50,
  settleMs: smoke ? 100 : 2000,
  // Turns of the peer and scale phases (A, B, A, B): one turn checks that it works.
  rounds: smoke ? 1 : 2,
};

const notes: string[] = [];
/** Phases a smoke run leaves out, said under the tables. */
const skipped: string[] = [];
if (smoke && only.has('peer') && !peerInstalled()) {
  skipped.push('peer phase skipped: better-auth is not installed in bench/peers/better-auth (a full run installs it)');
  only.delete('peer');
}
if (smoke && only.has('scale') && !process.env.BENCH_DATABASE_URL) {
  skipped.push('scale phase skipped: BENCH_DATABASE_URL is not set (a full run starts its own PostgreSQL)');
  only.delete('scale');
}
const limit = machine.openFilesHardLimit;
if (only.has('memory') && limit !== null && limit < cfg.idleConnections + 500) {
  notes.push(`The open-files hard limit (${limit}) is below ${cfg.idleConnections} connections + margin; measured ${limit - 500} (raise it with ulimit -Hn as root to measure more).`);
  cfg.idleConnections = Math.max(10, limit - 500);
}

const started = performance.now();
const say = (line: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
const tmp = mkdtempSync(join(tmpdir(), 'twofold-bench-'));
const profileDir = args.profile ? join(benchDir, 'results', 'profiles') : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const ctx: BenchContext = { tmp, profileDir, say };

say(`Twofold bench (${smoke ? 'smoke' : 'full'}): ${cfg.seconds} s per measurement after ${cfg.warmup} s warm-up`);
say(`machine: ${machineLine(machine)}`);

const running: { stop(): Promise<void> }[] = [];
const seeders: App[] = [];
function track<T extends Child | RunningChild>(c: T): T {
  running.push('child' in c ? c.child : c);
  return c;
}
async function twofoldWithSeeder(name: string, overrides: Record<string, string> = {}): Promise<{ server: TwofoldServer; seeder: App }> {
  const server = track(await startTwofold(ctx, name, overrides));
  const seeder = await openSeeder(server.dataDir, server.secretKey, overrides.DATABASE_URL);
  seeders.push(seeder);
  return { server, seeder };
}

const measures: Measure[] = [];
const pairs: { peer: PairMeasure[]; scale: PairMeasure[] } = { peer: [], scale: [] };
let observed: PeerObserved | null = null;
let database: BenchDatabase | null = null;
let failed = false;
try {
  const needs = (...phases: Phase[]) => phases.some((p) => only.has(p));
  const none = Promise.resolve(null);
  // Everything a phase needs starts at once, before any measuring, so that no start-up
  // (with its module loading and JIT) overlaps a measurement.
  say('starting servers and load generators');
  const [http, ddp, , probe, argon, main, ownChecking, a, b] = await Promise.all([
    startWorker('load-http', 'load/http.ts').then(track),
    needs('ddp', 'memory') ? startWorker('load-ddp', 'load/ddp.ts').then(track) : none,
    // Installing the peer (once) is done before anything is measured.
    needs('peer') ? installPeer(ctx) : none,
    needs('login') ? startWorker('load-probe', 'load/http.ts').then(track) : none,
    needs('login') ? startWorker('ceiling-c', 'ceilings/argon2.ts').then(track) : none,
    needs('rest', 'ddp', 'login') ? twofoldWithSeeder('twofold') : none,
    // Every call checks its code: nothing is remembered, so no call passes on a past check.
    // (The smoke run uses the main server: each pooled call is a fresh user's first anyway.)
    needs('rest') && !smoke ? twofoldWithSeeder('twofold-no-remember', { TWOFOLD_REMEMBER_FOR: '0' }) : none,
    needs('rest') ? startCeiling(ctx, 'ceiling-a', 'ceilings/fastify.ts').then(track) : none,
    needs('ddp') ? startCeiling(ctx, 'ceiling-b', 'ceilings/ws.ts').then(track) : none,
  ]);
  const checking = smoke ? main : ownChecking;
  // The smoke run measures memory on the servers it already has, rather than start fresh ones.
  const reuseForMemory = smoke && only.has('memory');
  const timing = { seconds: cfg.seconds, warmup: cfg.warmup, ceilingOnce: smoke };

  if (only.has('rest')) {
    say('REST: ceiling A against (1)–(3)');
    measures.push(...await restScenarios(ctx, http, { ...timing, connections: cfg.httpConnections }, a!, main!, checking!));
    await Promise.all([a!.child.stop(), ownChecking?.server.child.stop()]);
  }
  if (only.has('ddp')) {
    say('DDP: ceiling B against (4)');
    measures.push(...await ddpScenarios(ctx, ddp!, { ...timing, seconds: cfg.ddpSeconds, connections: cfg.ddpConnections }, b!, main!));
    if (!reuseForMemory) await b!.child.stop();
  }
  if (only.has('login')) {
    say('Logins: ceiling C against (5)');
    measures.push(...await loginScenarios(ctx, http, probe!, argon!, {
      ...timing, connections: cfg.loginConnections, probeRate: cfg.probeRate, threadpool: machine.uvThreadpoolSize,
    }, main!));
  }
  await Promise.all([reuseForMemory ? undefined : main?.server.child.stop(), probe?.stop(), argon?.stop()]);
  if (only.has('memory')) {
    say('Memory: ceiling B against (6)');
    measures.push(await memoryScenario(ctx, ddp!, cfg.idleConnections, cfg.settleMs, {
      ceilingB: async () => (reuseForMemory && b ? b : track(await startCeiling(ctx, 'ceiling-b-idle', 'ceilings/ws.ts'))),
      twofold: async () => (reuseForMemory && main ? main.server : track(await startTwofold(ctx, 'twofold-idle'))),
    }, notes.splice(0)));
  }
  if (only.has('peer')) {
    say('Peer: Twofold against better-auth, in turns');
    // Every call checks its code, as in (2); nothing else differs from the defaults.
    const [twofold, peer] = await Promise.all([
      twofoldWithSeeder('twofold-peer', { TWOFOLD_REMEMBER_FOR: '0' }),
      startPeer(ctx, 'better-auth').then(track),
    ]);
    const out = await peerScenarios(ctx, http, {
      ...timing, connections: cfg.httpConnections, loginConnections: cfg.loginConnections, peerTotpUsers: smoke ? 4 : 2 * cfg.httpConnections, rounds: cfg.rounds,
    }, twofold, peer);
    pairs.peer.push(...out.measures);
    observed = out.observed;
    await Promise.all([twofold.server.child.stop(), peer.child.stop()]);
  }
  if (only.has('scale')) {
    say('Scale: two Twofold instances on one PostgreSQL database');
    database = await benchDatabase(say);
    const shared = { DATABASE_URL: database.url, TWOFOLD_SECRET_KEY: randomBytes(32).toString('base64url'), TWOFOLD_REMEMBER_FOR: '0' };
    // One after the other: the first creates the schema.
    const first = await twofoldWithSeeder('twofold-pg-1', shared);
    const second = track(await startTwofold(ctx, 'twofold-pg-2', shared));
    pairs.scale.push(await scaleScenario(ctx, http, { ...timing, connections: 2 * cfg.httpConnections, rounds: cfg.rounds }, [first.server, second], first.seeder, database.origin));
    await Promise.all([first.server.child.stop(), second.child.stop()]);
  }
} catch (e) {
  failed = true;
  say(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  await Promise.allSettled(running.map((c) => c.stop()));
  await Promise.allSettled(seeders.map((s) => s.close()));
  await database?.close().catch((e) => say(`could not remove the bench's PostgreSQL: ${String(e)}`));
  if (failed || process.env.BENCH_KEEP === '1') say(`logs and databases kept in ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

machine.loadAverage.atEnd = os.loadavg().map((n) => Math.round(n * 100) / 100);
const results: Results = {
  generatedAt: new Date().toISOString(),
  mode: smoke ? 'smoke' : 'full',
  secondsPerMeasure: cfg.seconds,
  warmupSeconds: cfg.warmup,
  machine,
  setup: {
    store: 'sqlite (the default), in a temporary directory',
    protectedCall: `POST ${PROTECTED_PATH} {"data":{}}`,
    httpConnections: cfg.httpConnections,
    ddpConnections: cfg.ddpConnections,
    idleConnections: cfg.idleConnections,
    loginConnections: cfg.loginConnections,
    probeRatePerSecond: cfg.probeRate,
    logging: 'Twofold and ceilings A/B: pino at info, one line per request/method, to a log file',
    limitsRaised: raisedLimits(),
    phases: [...only],
  },
  measures,
  skipped,
  peer: { measures: pairs.peer, observed },
  scale: pairs.scale,
  totalSeconds: Math.round((performance.now() - started) / 100) / 10,
};

const runLines = [
  `Machine: ${machineLine(machine)}.`,
  `Run: ${results.mode}, ${cfg.seconds} s per measurement after ${cfg.warmup} s warm-up, ${results.totalSeconds} s in all, ${results.generatedAt}.`,
];
const notesOf = (ms: { id: string; notes?: string[] }[]) => ms.flatMap((m) => (m.notes ?? []).map((n) => `(${m.id}) ${n}`));
const withNotes = (body: string[], extra: string[]) => [...body, ...(extra.length ? ['', ...extra.map((n) => `- ${n}`)] : [])].join('\n');
const sections: { marker: string; phases: Phase[]; text: string }[] = [];
if (measures.length) sections.push({ marker: 'latest', phases: [...CEILING_PHASES], text: withNotes([table(measures), '', ...runLines], [...notes, ...notesOf(measures)]) });
if (pairs.peer.length) {
  const o = observed!;
  const seen = [
    `better-auth ${o.peerVersion}. Observed in this run: one TOTP code sent twice to verify-totp on a session got ${o.peerReusedCode.perCall.join(', ')}; `
      + `the same code at two sign-ins got ${o.peerReusedCode.signIn.join(', ')}; Twofold, one code on two protected calls: ${o.twofoldReusedCode.join(', ')}. `
      + `better-auth's stored TOTP secret is ${o.peerTwoFactorRowEncrypted ? 'not in clear (encrypted)' : 'IN CLEAR'}.`,
  ];
  sections.push({
    marker: 'peer', phases: ['peer'],
    text: withNotes([pairTable(pairs.peer, { left: 'Twofold', right: 'better-auth', ratio: 'Twofold / better-auth' }), '', ...seen, ...runLines], notesOf(pairs.peer)),
  });
}
if (pairs.scale.length) {
  sections.push({
    marker: 'scale', phases: ['scale'],
    text: withNotes([pairTable(pairs.scale, { left: 'Two instances', right: 'One instance', ratio: 'Two / one' }), '', ...runLines], notesOf(pairs.scale)),
  });
}
if (skipped.length) sections.push({ marker: '', phases: [], text: skipped.map((n) => `- ${n}`).join('\n') });
const report = sections.map((s) => s.text).join('\n\n');
console.log(report);

// A partial run (--only) never replaces the full results.
const partial = args.only ? `-${[...only].join('-')}` : '';
const out = args.out ?? join(benchDir, 'results', `${smoke ? 'smoke' : 'latest'}${partial}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
say(`written to ${out}`);

// Each section of BENCHMARKS.md is replaced only by a run of all its phases.
if (args['update-doc'] && !smoke && !failed) {
  const doc = join(repoDir, 'BENCHMARKS.md');
  let text = readFileSync(doc, 'utf8');
  for (const section of sections) {
    if (!section.marker || !section.phases.every((p) => only.has(p))) continue;
    const start = `<!-- bench:${section.marker}:start -->`;
    const end = `<!-- bench:${section.marker}:end -->`;
    const i = text.indexOf(start);
    const j = text.indexOf(end);
    if (i < 0 || j < i) throw new Error(`BENCHMARKS.md has no ${start} … ${end} section`);
    text = `${text.slice(0, i + start.length)}\n\n${section.text}\n\n${text.slice(j)}`;
    say(`BENCHMARKS.md: ${section.marker} updated`);
  }
  writeFileSync(doc, text);
}
