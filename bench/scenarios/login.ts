// (5): password logins per second against ceiling C (argon2id with the same parameters on
// every core, nothing else running), and meanwhile the p99 of GET /api/info, which stays
// low only if the slow hashes really run off the event loop.

import type { App } from '../../src/app.ts';
import type { Child } from '../lib/child.ts';
import type { HttpResult } from '../load/http.ts';
import type { Measure } from '../lib/report.ts';
import { addUser, BENCH_PASSWORD } from '../lib/seed.ts';
import type { BenchContext, TwofoldServer } from '../lib/servers.ts';
import { ceilingSide, distinct, httpNotes, latencyText, measure, type Timing } from './common.ts';

export interface LoginOptions extends Timing {
  connections: number;
  /** Probe requests per second to /api/info. */
  probeRate: number;
  threadpool: number;
}

interface HashRun { type: 'result'; perSecond: number; hashes: number; delayP99: number; delayMax: number }
interface Delay { type: 'delay'; p50: number; p99: number; max: number }

export async function loginScenarios(
  ctx: BenchContext, load: Child, probe: Child, argon: Child, opts: LoginOptions, twofold: { server: TwofoldServer; seeder: App },
): Promise<Measure[]> {
  const { user } = await addUser(twofold.seeder, 'bench-login');
  const { argon2MemoryKib: memoryKib, argon2Iterations: iterations } = twofold.seeder.settings;
  const hashes = () => argon.ask<HashRun>({ type: 'run', seconds: opts.seconds, warmup: opts.warmup, memoryKib, iterations, concurrency: opts.threadpool }, 'result');
  const probeRun = () => probe.ask<HttpResult>({
    type: 'run', url: twofold.server.url, method: 'GET', path: '/api/info', headers: { 'user-agent': 'twofold-bench-probe' },
    connections: 1, overallRate: opts.probeRate, seconds: opts.seconds, warmup: opts.warmup,
  }, 'result');
  const logins = () => load.ask<HttpResult>({
    type: 'run', url: twofold.server.url, method: 'POST', path: '/api/v1/login',
    headers: { 'content-type': 'application/json', 'user-agent': 'twofold-bench' },
    body: JSON.stringify({ user: user.username, password: BENCH_PASSWORD }),
    connections: opts.connections, seconds: opts.seconds, warmup: opts.warmup,
  }, 'result');

  ctx.say('  /api/info p99 with the server idle');
  const idle = await probeRun();
  ctx.say(`  ceiling C (argon2id ${memoryKib} KiB, t=${iterations}, ${opts.threadpool} in flight), first run`);
  const c1 = await hashes();
  ctx.say('  (5) password logins, with /api/info probed meanwhile');
  // The event-loop delay inside the server, counted from the end of the warm-up.
  const resetDelay = new Promise((r) => setTimeout(r, opts.warmup * 1000)).then(() => twofold.server.child.ask({ type: 'delay-reset' }));
  const [login, busy] = await Promise.all([logins(), probeRun()]);
  await resetDelay;
  const loop = await twofold.server.child.ask<Delay>({ type: 'delay' });
  if (!opts.ceilingOnce) ctx.say('  ceiling C, second run');
  const c2 = opts.ceilingOnce ? c1 : await hashes();

  const ceiling = ceilingSide('C', distinct([c1, c2]), 'hashes/s');
  const floor = Math.max(c1.delayP99, c2.delayP99);
  return [
    measure({
      id: '5',
      what: 'Password logins (argon2id defaults)',
      twofold: { value: login.perSecond, unit: 'logins/s', detail: latencyText(login.latencyMs) },
      ceiling,
      ratio: login.perSecond / ceiling.value,
      target: { op: '>=', value: 0.9, asPercent: true },
      notes: httpNotes('Twofold', login),
    }),
    measure({
      id: '5′',
      what: 'GET /api/info p99 during those logins',
      twofold: {
        value: busy.latencyMs.p99, unit: 'ms',
        detail: `p50 ${busy.latencyMs.p50} ms at ${opts.probeRate} req/s; idle server p99 ${idle.latencyMs.p99} ms; `
          + `event-loop delay p99 ${Math.round(loop.p99)} ms (max ${Math.round(loop.max)}) in Twofold, ${Math.round(floor)} ms in ceiling C's own process`,
      },
      ceiling: null,
      ratio: busy.latencyMs.p99,
      target: { op: '<', value: 50, asPercent: false },
      notes: httpNotes('probe', busy),
    }),
  ];
}
