// (4): DDP method round trips on many connections at once, against ceiling B (a bare `ws`
// server answering the same frames). Each Twofold connection is logged in (resume token),
// as a Rocket.Chat client is, and calls `twofold:me`: every call re-reads its token and
// user, so what is measured is a logged-in method call without a second factor.

import type { App } from '../../src/app.ts';
import type { Child } from '../lib/child.ts';
import type { Measure } from '../lib/report.ts';
import { addUser } from '../lib/seed.ts';
import type { BenchContext, RunningChild, TwofoldServer } from '../lib/servers.ts';
import { ceilingSide, distinct, latencyText, measure, withLatency, type Timing } from './common.ts';

const METHOD = 'twofold:me';

interface DdpResult {
  type: 'result';
  ok: number;
  perSecond: number;
  errors: number;
  samples: string[];
  latencyMs: { p50: number; p99: number };
}

export async function ddpScenarios(
  ctx: BenchContext, load: Child, opts: Timing & { connections: number[] },
  ceilingB: RunningChild, twofold: { server: TwofoldServer; seeder: App },
): Promise<Measure[]> {
  const { token } = await addUser(twofold.seeder, 'bench-ddp');
  const round = async (url: string, connections: number, resume?: string) => {
    await load.ask({ type: 'open', url, connections, resume }, 'opened');
    const r = await load.ask<DdpResult>({ type: 'run', method: METHOD, params: [], seconds: opts.seconds, warmup: opts.warmup }, 'result', (opts.seconds + opts.warmup) * 1000 + 60_000);
    await load.ask({ type: 'close' }, 'closed');
    return r;
  };
  const out: Measure[] = [];
  for (const [i, n] of opts.connections.entries()) {
    ctx.say(`  ceiling B (bare ws), ${n} connections`);
    const b1 = await round(ceilingB.wsUrl, n);
    ctx.say(`  (4) Twofold, ${n} connections`);
    const t = await round(twofold.server.wsUrl, n, token);
    if (!opts.ceilingOnce) ctx.say(`  ceiling B again, ${n} connections`);
    const b2 = opts.ceilingOnce ? b1 : await round(ceilingB.wsUrl, n);
    const ceiling = ceilingSide('B', distinct([b1, b2]), 'calls/s');
    const notes = t.errors ? [`Twofold: ${t.errors} calls answered with an error (not counted); first: ${t.samples.join(' | ')}`] : [];
    out.push(measure({
      id: `4${'abc'[i]}`,
      what: `DDP method round trips, ${n} connections`,
      twofold: { value: t.perSecond, unit: 'calls/s', detail: latencyText(t.latencyMs) },
      ceiling: { ...ceiling, detail: withLatency(ceiling.detail, b1.latencyMs) },
      ratio: t.perSecond / ceiling.value,
      target: { op: '>=', value: 0.6, asPercent: true },
      notes,
    }));
  }
  return out;
}
