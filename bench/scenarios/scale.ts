// (S1): scale on PostgreSQL. Two Twofold processes on one database (same server key, as
// instances behind a load balancer would be), one load generator: protected calls each with
// a fresh TOTP code, all on the first instance, then spread evenly over both, in turns
// (one, two, one, two), the same number of connections in all.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../../src/app.ts';
import type { Child } from '../lib/child.ts';
import type { PairMeasure } from '../lib/report.ts';
import { seedPool } from '../lib/seed.ts';
import type { BenchContext, TwofoldServer } from '../lib/servers.ts';
import type { HttpResult } from '../load/http.ts';
import { httpNotes, latencyText, mean, type Timing } from './common.ts';
import { PROTECTED_PATH } from './rest.ts';

export interface ScaleOptions extends Timing {
  connections: number;
  /** Rounds of (one instance, two instances): 2 in a full run. */
  rounds: number;
}

export async function scaleScenario(
  ctx: BenchContext, load: Child, opts: ScaleOptions, instances: [TwofoldServer, TwofoldServer], seeder: App, origin: string,
): Promise<PairMeasure> {
  // A time step is taken once per user: a pool per run, at 2,000 checks a second for the
  // whole run, above what PostgreSQL with one commit per check gives here.
  const poolSize = Math.ceil(2000 * (opts.seconds + opts.warmup)) + 4 * opts.connections;
  ctx.say(`  seeding ${2 * opts.rounds} × ${poolSize.toLocaleString('en-US')} TOTP users into PostgreSQL`);
  const files: string[] = [];
  for (let i = 0; i < 2 * opts.rounds; i++) {
    const file = join(ctx.tmp, `pool-scale-${i}.json`);
    writeFileSync(file, JSON.stringify(await seedPool(seeder, 'totp', poolSize, `bench-scale${i}`)));
    files.push(file);
  }
  const [a, b] = instances;
  const run = (i: number, two: boolean) => load.ask<HttpResult>({
    type: 'run', url: a.url, ...(two ? { moreUrls: [b.url] } : {}), method: 'POST', path: PROTECTED_PATH, body: '{"data":{}}',
    headers: { 'content-type': 'application/json', 'user-agent': 'twofold-bench' },
    connections: opts.connections, seconds: opts.seconds, warmup: opts.warmup, pool: { file: files[i]!, method: 'totp' },
  }, 'result');

  const one: HttpResult[] = [];
  const two: HttpResult[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    ctx.say(`  (S1) one instance, run ${i + 1}`);
    one.push(await run(2 * i, false));
    ctx.say(`  (S1) two instances, run ${i + 1}`);
    two.push(await run(2 * i + 1, true));
  }
  const split = two.map((r) => (r.perServer ?? []).join(' + ')).join(', ');
  const left = { name: 'two instances', unit: 'req/s', value: mean(two.map((r) => r.perSecond)), runs: two.map((r) => r.perSecond), detail: `${latencyText(two[0]!.latencyMs)}; answered per instance ${split}` };
  const right = { name: 'one instance', unit: 'req/s', value: mean(one.map((r) => r.perSecond)), runs: one.map((r) => r.perSecond), detail: latencyText(one[0]!.latencyMs) };
  return {
    id: 'S1',
    what: `Protected call with a fresh TOTP code, PostgreSQL (${opts.connections} connections in all)`,
    left, right, ratio: left.value / right.value,
    notes: [
      `database: ${origin}`,
      ...one.flatMap((r, i) => httpNotes(`one instance run ${i + 1}`, r)),
      ...two.flatMap((r, i) => httpNotes(`two instances run ${i + 1}`, r)),
    ],
  };
}
