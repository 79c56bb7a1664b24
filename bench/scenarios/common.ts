import type { HttpResult } from '../load/http.ts';
import type { Measure } from '../lib/report.ts';
import { judge } from '../lib/report.ts';

export interface Timing {
  seconds: number;
  warmup: number;
  /**
   * Each ceiling measured once rather than around every Twofold run (the smoke mode: it
   * checks that every measure comes back, not how steady the machine was).
   */
  ceilingOnce?: boolean;
}

/** The ceiling runs beside a Twofold run, each once (in the smoke mode the same run stands on both sides). */
export const distinct = <T>(runs: T[]): T[] => runs.filter((r, i) => runs.indexOf(r) === i);

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export const latencyText = (l: { p50: number; p99: number }) => `p50 ${fmtMs(l.p50)}, p99 ${fmtMs(l.p99)}`;
/** A ceiling's runs and its latency, as one detail. */
export const withLatency = (detail: string, l: { p50: number; p99: number }) => [detail, latencyText(l)].filter(Boolean).join('; ');
const fmtMs = (ms: number) => `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;

/** A ceiling measured before and after Twofold: the mean is the ceiling, the spread is the noise. */
export function ceilingSide(name: string, runs: { perSecond: number }[], unit: string) {
  const samples = runs.map((r) => Math.round(r.perSecond));
  return { name, value: mean(runs.map((r) => r.perSecond)), unit, samples, detail: runs.length > 1 ? `runs ${samples.map((n) => n.toLocaleString('en-US')).join(' / ')}` : '' };
}

/** What went wrong in a run, for the notes: failed answers count against Twofold, not for it. */
export function httpNotes(label: string, r: HttpResult): string[] {
  const notes: string[] = [];
  if (r.non2xx > 0 || r.errors > 0) notes.push(`${label}: ${r.non2xx} non-2xx answers, ${r.errors} connection errors (not counted); first: ${r.samples.join(' | ')}`);
  if (r.exhausted) notes.push(`${label}: the pool of users ran out after ${r.seconds} s; the rate is over that time`);
  return notes;
}

export function measure(m: Omit<Measure, 'met'>): Measure {
  return { ...m, met: judge(m.ratio, m.target) };
}
