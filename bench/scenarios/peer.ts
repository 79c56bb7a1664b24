// (P1)–(P3): Twofold beside a peer, better-auth with its twoFactor plugin, in the same run,
// in turns (Twofold, peer, Twofold, peer), each the mean of its two runs:
//   P1 the cheapest authenticated call: Twofold's GET /api/v1/me, better-auth's GET /get-session;
//   P2 a TOTP code checked on every call: Twofold's protected call with a fresh code (a fresh
//      user each call, since Twofold takes a time step once), better-auth's verify-totp on a
//      signed-in session (the same few users again and again, since it takes a code again);
//   P3 password sign-in, each at its own default hash: argon2id (Twofold), scrypt (better-auth).
// Before measuring, what each does with a reused code is tried and written into the results.

import { writeFileSync } from 'node:fs';
import { Secret } from 'otpauth';
import { join } from 'node:path';
import type { App } from '../../src/app.ts';
import { hotp, totpStep } from '../../src/core/twofactor/totp.ts';
import type { Child } from '../lib/child.ts';
import type { PeerServer } from '../lib/peer.ts';
import type { PairMeasure } from '../lib/report.ts';
import { addUser, BENCH_PASSWORD, seedPool } from '../lib/seed.ts';
import type { BenchContext, TwofoldServer } from '../lib/servers.ts';
import type { HttpResult, HttpRun, PeerPoolUser } from '../load/http.ts';
import { PEER_PASSWORD, peerClient } from '../peers/better-auth/client.ts';
import { httpNotes, latencyText, mean, type Timing } from './common.ts';
import { PROTECTED_PATH } from './rest.ts';

export interface PeerOptions extends Timing {
  connections: number;
  loginConnections: number;
  /** Users of the peer for P2, taken in turn. */
  peerTotpUsers: number;
  /** Rounds of (Twofold, peer): 2 in a full run. */
  rounds: number;
}

/** What was observed in this run, not read from documentation. */
export interface PeerObserved {
  peerVersion: string;
  /** The status of each of three calls with one code: verify-totp on a session, then at two sign-ins. */
  peerReusedCode: { perCall: number[]; signIn: number[] };
  /** Twofold: the same code on two protected calls. */
  twofoldReusedCode: number[];
  peerTwoFactorRowEncrypted: boolean;
}

const UA = 'twofold-bench';
const json = { 'content-type': 'application/json', 'user-agent': UA };

async function observe(peer: PeerServer, twofold: { server: TwofoldServer; seeder: App }, tmp: string): Promise<PeerObserved> {
  const c = peerClient(peer.url);
  const u = await c.signUpWithTotp('bench-reuse');
  const code = hotp(u.secret, totpStep(Date.now()));
  const perCall: number[] = [];
  for (let i = 0; i < 2; i++) perCall.push((await c.call('POST', '/two-factor/verify-totp', { code }, u.cookie)).status);
  const signIn: number[] = [];
  for (let i = 0; i < 2; i++) {
    const challenge = c.must('sign-in', await c.call('POST', '/sign-in/email', { email: u.email, password: PEER_PASSWORD }));
    signIn.push((await c.call('POST', '/two-factor/verify-totp', { code }, c.cookieOf(challenge))).status);
  }
  // Twofold: one TOTP user, one code, two protected calls.
  const [t] = await seedPool(twofold.seeder, 'totp', 1, 'bench-reuse');
  const twofoldCode = hotp(t!.secret!, totpStep(Date.now()));
  const twofoldReusedCode: number[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${twofold.server.url}${PROTECTED_PATH}`, {
      method: 'POST', body: '{"data":{}}',
      headers: { ...json, 'x-user-id': t!.userId, 'x-auth-token': t!.token, 'x-2fa-code': twofoldCode, 'x-2fa-method': 'totp' },
    });
    await res.text();
    twofoldReusedCode.push(res.status);
  }
  // The secret as stored: is either form of it (base32, or the raw key better-auth generated) in the row?
  const raw = Buffer.from(Secret.fromBase32(u.secret).bytes).toString('latin1');
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(join(tmp, peer.name, 'better-auth.db'), { readonly: true });
  const rows = db.prepare('SELECT secret FROM twoFactor').all() as { secret: string }[];
  db.close();
  return {
    peerVersion: peer.version, peerReusedCode: { perCall, signIn }, twofoldReusedCode,
    peerTwoFactorRowEncrypted: rows.length > 0 && rows.every((r) => !r.secret.includes(u.secret) && !r.secret.includes(raw)),
  };
}

export async function peerScenarios(
  ctx: BenchContext, load: Child, opts: PeerOptions, twofold: { server: TwofoldServer; seeder: App }, peer: PeerServer,
): Promise<{ measures: PairMeasure[]; observed: PeerObserved }> {
  ctx.say(`  better-auth ${peer.version}: what a reused TOTP code gets, on each side`);
  const observed = await observe(peer, twofold, ctx.tmp);

  ctx.say('  seeding users on both sides');
  const c = peerClient(peer.url);
  const { user, token } = await addUser(twofold.seeder, 'bench-peer');
  const peerPlain = await c.signUp('bench-peer');
  const peerPool: PeerPoolUser[] = [];
  // Sign-up and enabling each hash a password: a few at a time.
  for (let i = 0; i < opts.peerTotpUsers; i += 4) {
    const batch = await Promise.all(Array.from({ length: Math.min(4, opts.peerTotpUsers - i) }, (_, j) => c.signUpWithTotp(`bench-peer-totp-${i + j}`)));
    peerPool.push(...batch.map(({ cookie, secret }) => ({ cookie, secret })));
  }
  const peerPoolFile = join(ctx.tmp, 'pool-peer-totp.json');
  writeFileSync(peerPoolFile, JSON.stringify(peerPool));
  // Twofold takes each time step once per user: one pool per run, at 8,000 checks a second
  // (far above what this machine does) for the whole run; a pool that runs out all the same
  // is measured over the time it lasted, and the notes say so.
  const poolSize = Math.ceil(8000 * (opts.seconds + opts.warmup)) + 4 * opts.connections;
  const twofoldPools = Array.from({ length: opts.rounds }, (_, i) => join(ctx.tmp, `pool-peer-twofold-${i + 1}.json`));
  for (const [i, file] of twofoldPools.entries()) writeFileSync(file, JSON.stringify(await seedPool(twofold.seeder, 'totp', poolSize, `bench-ptotp${i}`)));

  const timing = { seconds: opts.seconds, warmup: opts.warmup };
  const run = (spec: Omit<HttpRun, 'type' | 'seconds' | 'warmup'>) => load.ask<HttpResult>({ type: 'run', ...timing, ...spec }, 'result');
  const peerAuth = { ...json, origin: peer.url };

  interface Pair { id: string; what: string; unit: string; twofold: (i: number) => Promise<HttpResult>; peer: () => Promise<HttpResult>; twofoldName: string; peerName: string }
  const pairs: Pair[] = [
    {
      id: 'P1', what: 'Cheapest authenticated call', unit: 'req/s',
      twofoldName: 'GET /api/v1/me', peerName: 'GET /api/auth/get-session',
      twofold: () => run({ url: twofold.server.url, method: 'GET', path: '/api/v1/me', headers: { 'user-agent': UA, 'x-user-id': user.id, 'x-auth-token': token }, connections: opts.connections }),
      peer: () => run({ url: peer.url, method: 'GET', path: '/api/auth/get-session', headers: { 'user-agent': UA, origin: peer.url, cookie: peerPlain.cookie }, connections: opts.connections }),
    },
    {
      id: 'P2', what: 'A valid TOTP code checked on every call', unit: 'req/s',
      twofoldName: `POST ${PROTECTED_PATH} + x-2fa-code`, peerName: 'POST /api/auth/two-factor/verify-totp on a session',
      twofold: (i) => run({
        url: twofold.server.url, method: 'POST', path: PROTECTED_PATH, body: '{"data":{}}', headers: json,
        connections: opts.connections, pool: { file: twofoldPools[i]!, method: 'totp' },
      }),
      peer: () => run({
        url: peer.url, method: 'POST', path: '/api/auth/two-factor/verify-totp', headers: peerAuth,
        connections: opts.connections, pool: { file: peerPoolFile, method: 'peer-totp' },
      }),
    },
    {
      id: 'P3', what: 'Password sign-in, each at its default hash', unit: 'logins/s',
      twofoldName: 'POST /api/v1/login (argon2id)', peerName: 'POST /api/auth/sign-in/email (scrypt)',
      twofold: () => run({
        url: twofold.server.url, method: 'POST', path: '/api/v1/login', headers: json,
        body: JSON.stringify({ user: user.username, password: BENCH_PASSWORD }), connections: opts.loginConnections,
      }),
      peer: () => run({
        url: peer.url, method: 'POST', path: '/api/auth/sign-in/email', headers: peerAuth,
        body: JSON.stringify({ email: peerPlain.email, password: PEER_PASSWORD }), connections: opts.loginConnections,
      }),
    },
  ];

  const measures: PairMeasure[] = [];
  for (const p of pairs) {
    const t: HttpResult[] = [];
    const q: HttpResult[] = [];
    for (let i = 0; i < opts.rounds; i++) {
      ctx.say(`  (${p.id}) Twofold, ${p.twofoldName}, run ${i + 1}`);
      t.push(await p.twofold(i));
      ctx.say(`  (${p.id}) better-auth, ${p.peerName}, run ${i + 1}`);
      q.push(await p.peer());
    }
    const side = (name: string, runs: HttpResult[]) => ({
      name, unit: p.unit, value: mean(runs.map((r) => r.perSecond)), runs: runs.map((r) => r.perSecond), detail: latencyText(runs[0]!.latencyMs),
    });
    const left = side(p.twofoldName, t);
    const right = side(p.peerName, q);
    measures.push({
      id: p.id, what: p.what, left, right, ratio: left.value / right.value,
      notes: [...t.flatMap((r, i) => httpNotes(`Twofold run ${i + 1}`, r)), ...q.flatMap((r, i) => httpNotes(`better-auth run ${i + 1}`, r))],
    });
  }
  return { measures, observed };
}
