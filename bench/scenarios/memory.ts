// (6): resident memory of a fresh server holding many idle DDP sessions (connected, not
// logged in), against ceiling B holding the same. Both are measured by the process itself
// (process.memoryUsage().rss) once the connections have settled. The smoke mode holds them
// on the servers the earlier phases used, which only checks that the phase works.

import type { Child } from '../lib/child.ts';
import type { Measure } from '../lib/report.ts';
import type { BenchContext, RunningChild } from '../lib/servers.ts';
import { measure } from './common.ts';

const MiB = 2 ** 20;
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function holdIdle(load: Child, server: RunningChild, connections: number, settleMs: number) {
  await settle(settleMs);
  const before = await server.child.rss();
  const opened = await load.ask<{ type: 'opened'; ms: number }>({ type: 'open', url: server.wsUrl, connections, batch: 200 }, 'opened', 300_000);
  await settle(settleMs);
  const after = await server.child.rss();
  await load.ask({ type: 'close' }, 'closed', 120_000);
  return { before, after, openMs: opened.ms, perConnectionKiB: (after - before) / connections / 1024 };
}

export async function memoryScenario(
  ctx: BenchContext, load: Child, connections: number, settleMs: number,
  start: { ceilingB(): Promise<RunningChild>; twofold(): Promise<RunningChild> }, notes: string[],
): Promise<Measure> {
  ctx.say(`  ceiling B, ${connections.toLocaleString('en-US')} idle DDP sessions`);
  const b = await start.ceilingB();
  const bm = await holdIdle(load, b, connections, settleMs).finally(() => b.child.stop());
  ctx.say(`  (6) Twofold, ${connections.toLocaleString('en-US')} idle DDP sessions`);
  const t = await start.twofold();
  const tm = await holdIdle(load, t, connections, settleMs).finally(() => t.child.stop());
  const detail = (m: typeof bm) => `${(m.before / MiB).toFixed(0)} MiB before, ${m.perConnectionKiB.toFixed(1)} KiB per session`;
  return measure({
    id: '6',
    what: `RSS with ${connections.toLocaleString('en-US')} idle DDP sessions`,
    twofold: { value: tm.after / MiB, unit: 'MiB', detail: detail(tm) },
    ceiling: { name: 'B', value: bm.after / MiB, unit: 'MiB', detail: detail(bm) },
    ratio: tm.after / bm.after,
    target: { op: '<=', value: 1.5, asPercent: false },
    notes,
  });
}
