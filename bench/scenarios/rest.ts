// (1)–(3): one protected REST call, against ceiling A (the same request to a bare Fastify
// route). The call is POST /api/v1/users.updateOwnBasicInfo with `{"data":{}}`: a real
// operation whose second-factor policy is `ask`, whose handler only reads the user back,
// so what is measured is authentication + the second-factor decision, not a write.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../../src/app.ts';
import type { Child } from '../lib/child.ts';
import type { HttpResult, HttpRun } from '../load/http.ts';
import type { Measure } from '../lib/report.ts';
import { addEmailCode, addUser, seedPool } from '../lib/seed.ts';
import type { BenchContext, RunningChild, TwofoldServer } from '../lib/servers.ts';
import { ceilingSide, distinct, httpNotes, latencyText, measure, withLatency, type Timing } from './common.ts';

export const PROTECTED_PATH = '/api/v1/users.updateOwnBasicInfo';
const BODY = '{"data":{}}';
const USER_AGENT = 'twofold-bench';

export interface RestOptions extends Timing {
  connections: number;
}

async function post(base: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}${PROTECTED_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers }, body: BODY });
  return { status: res.status, body: await res.text() };
}

export async function restScenarios(
  ctx: BenchContext, load: Child, opts: RestOptions,
  ceilingA: RunningChild, remembering: { server: TwofoldServer; seeder: App }, checking: { server: TwofoldServer; seeder: App },
): Promise<Measure[]> {
  // (1) A token whose second factor was checked once, then remembered for this client.
  const { user, token } = await addUser(remembering.seeder, 'bench-remember', { email2fa: true });
  const auth = { 'x-user-id': user.id, 'x-auth-token': token };
  const first = await post(remembering.server.url, { ...auth, 'x-2fa-code': await addEmailCode(remembering.seeder, user.id), 'x-2fa-method': 'email' });
  const again = await post(remembering.server.url, auth);
  if (first.status !== 200 || again.status !== 200) {
    throw new Error(`the remembered call does not pass: ${first.status} ${first.body.slice(0, 200)} / ${again.status} ${again.body.slice(0, 200)}`);
  }

  const base: Omit<HttpRun, 'url'> = {
    type: 'run', method: 'POST', path: PROTECTED_PATH, body: BODY, connections: opts.connections, seconds: opts.seconds, warmup: opts.warmup,
    headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...auth },
  };
  const run = (url: string, extra: Partial<HttpRun> = {}) => load.ask<HttpResult & { type: 'result' }>({ ...base, url, ...extra }, 'result');

  // Ceiling A runs before, between and after the Twofold runs; each Twofold run is compared
  // with the two A runs beside it, so a machine that slows down or speeds up meanwhile
  // moves the ceiling with it.
  ctx.say('  ceiling A (bare Fastify)');
  const a0 = await run(ceilingA.url);
  const ceilingAgain = async () => {
    if (opts.ceilingOnce) return a0;
    ctx.say('  ceiling A');
    return run(ceilingA.url);
  };
  ctx.say('  (1) remembered token');
  const remembered = await run(remembering.server.url);
  const a1 = await ceilingAgain();

  // (2), (3): a fresh user per call, since a TOTP step and an email code are each good once.
  // Checking a code costs more than a remembered pass, so twice the remembered rate (and
  // never less than 1,000/s) is ample; if a pool runs out all the same, the rate is taken
  // over the time it lasted.
  const poolSize = Math.ceil(Math.max(2 * remembered.perSecond, 1000) * (opts.seconds + opts.warmup)) + 4 * opts.connections;
  ctx.say(`  seeding 2 × ${poolSize.toLocaleString('en-US')} users (TOTP, email)`);
  const files = { totp: join(ctx.tmp, 'pool-totp.json'), email: join(ctx.tmp, 'pool-email.json') };
  writeFileSync(files.totp, JSON.stringify(await seedPool(checking.seeder, 'totp', poolSize, 'bench-totp')));
  writeFileSync(files.email, JSON.stringify(await seedPool(checking.seeder, 'email', poolSize, 'bench-email')));

  ctx.say('  (2) a valid TOTP code on every call');
  const totp = await run(checking.server.url, { pool: { file: files.totp, method: 'totp' } });
  const a2 = await ceilingAgain();
  ctx.say('  (3) a valid email code on every call');
  const email = await run(checking.server.url, { pool: { file: files.email, method: 'email' } });
  const a3 = await ceilingAgain();

  const row = (id: string, what: string, r: HttpResult, around: HttpResult[], target: number): Measure => {
    const beside = distinct(around);
    const ceiling = ceilingSide('A', beside, 'req/s');
    return measure({
      id, what,
      twofold: { value: r.perSecond, unit: 'req/s', detail: latencyText(r.latencyMs) },
      ceiling: { ...ceiling, detail: withLatency(ceiling.detail, beside[0]!.latencyMs) },
      ratio: r.perSecond / ceiling.value,
      target: { op: '>=', value: target, asPercent: true },
      notes: [...httpNotes('Twofold', r), ...beside.flatMap((a, i) => httpNotes(`ceiling A run ${i + 1}`, a))],
    });
  };
  return [
    row('1', 'Protected REST call, remembered token', remembered, [a0, a1], 0.6),
    row('2', 'Protected REST call, valid TOTP code each time', totp, [a1, a2], 0.45),
    row('3', 'Protected REST call, valid email code each time', email, [a2, a3], 0.4),
  ];
}
