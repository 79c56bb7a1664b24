// The results: one row per measure, Twofold beside its ceiling, as a ratio against a target.

import type { Machine } from './machine.ts';

export interface Side {
  /** The number the ratio is made of. */
  value: number;
  unit: string;
  /** Absolute figures shown beside the ratio (latency, samples, memory before load…). */
  detail: string;
}

export interface Measure {
  id: string;
  what: string;
  twofold: Side;
  /** null for a measure judged on its own (the /api/info p99 during logins). */
  ceiling: (Side & { name: string; samples?: number[] }) | null;
  /** twofold / ceiling; for a measure without a ceiling, the value itself. */
  ratio: number;
  target: { op: '>=' | '<=' | '<'; value: number; asPercent: boolean };
  met: boolean;
  notes?: string[];
}

export interface Results {
  generatedAt: string;
  mode: 'full' | 'smoke';
  secondsPerMeasure: number;
  warmupSeconds: number;
  machine: Machine;
  setup: Record<string, unknown>;
  measures: Measure[];
  /** Phases a smoke run left out, and why. */
  skipped?: string[];
  /** Twofold beside better-auth, and what each did with a reused code (bench/scenarios/peer.ts). */
  peer?: { measures: PairMeasure[]; observed: unknown };
  /** One Twofold instance against two on PostgreSQL (bench/scenarios/scale.ts). */
  scale?: PairMeasure[];
  totalSeconds: number;
}

export function judge(ratio: number, target: Measure['target']): boolean {
  if (!Number.isFinite(ratio)) return false;
  if (target.op === '>=') return ratio >= target.value;
  if (target.op === '<=') return ratio <= target.value;
  return ratio < target.value;
}

const groups = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatNumber(value: number, unit: string): string {
  if (unit === 'MiB') return `${value.toFixed(0)} MiB`;
  if (unit === 'ms') return `${value < 10 ? value.toFixed(1) : groups(value)} ms`;
  return `${value < 100 ? value.toFixed(1) : groups(value)} ${unit}`;
}

function ratioText(m: Measure): string {
  if (!m.ceiling) return formatNumber(m.ratio, m.twofold.unit);
  return m.target.asPercent ? `${(m.ratio * 100).toFixed(0)}%` : `${m.ratio.toFixed(2)}×`;
}

function targetText(t: Measure['target'], unit: string): string {
  const op = t.op === '>=' ? '≥' : t.op === '<=' ? '≤' : '<';
  return `${op} ${t.asPercent ? `${(t.value * 100).toFixed(0)}%` : unit === 'ms' ? `${t.value} ms` : `${t.value}×`}`;
}

/** A Markdown table: readable in a terminal and pasted as is into BENCHMARKS.md. */
export function table(measures: Measure[]): string {
  const rows = [['#', 'Measure', 'Twofold', 'Ceiling', 'Ratio', 'Target', 'Met']];
  for (const m of measures) {
    rows.push([
      m.id,
      m.what,
      `${formatNumber(m.twofold.value, m.twofold.unit)}${m.twofold.detail ? ` (${m.twofold.detail})` : ''}`,
      m.ceiling ? `${m.ceiling.name}: ${formatNumber(m.ceiling.value, m.ceiling.unit)}${m.ceiling.detail ? ` (${m.ceiling.detail})` : ''}` : '—',
      ratioText(m),
      targetText(m.target, m.twofold.unit),
      m.met ? 'yes' : '**no**',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...r[c]!].length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell + ' '.repeat(widths[c]! - [...cell].length)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export function machineLine(m: Machine): string {
  return `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB RAM, ${m.os}, Node ${m.node}, UV_THREADPOOL_SIZE ${m.uvThreadpoolSize}, `
    + `load average at start ${m.loadAverage.atStart.join(' / ')}${m.loadAverage.atEnd ? `, at end ${m.loadAverage.atEnd.join(' / ')}` : ''}`;
}

/** One side of a comparison between two servers measured in turns (A, B, A, B). */
export interface PairSide {
  name: string;
  /** The mean of the runs. */
  value: number;
  unit: string;
  runs: number[];
  detail: string;
}

/** Twofold beside its peer, or Twofold on one instance beside two: no target, a ratio. */
export interface PairMeasure {
  id: string;
  what: string;
  left: PairSide;
  right: PairSide;
  /** left / right. */
  ratio: number;
  notes?: string[];
}

function pairCell(s: PairSide): string {
  const runs = s.runs.length > 1 ? `runs ${s.runs.map((n) => formatNumber(n, '').trim()).join(' / ')}` : '';
  const detail = [runs, s.detail].filter(Boolean).join('; ');
  return `${formatNumber(s.value, s.unit)}${detail ? ` (${detail})` : ''}`;
}

/** A Markdown table of pairs, its ratio column headed `ratioHead`. */
export function pairTable(measures: PairMeasure[], heads: { left: string; right: string; ratio: string }): string {
  const rows = [['#', 'Measure', heads.left, heads.right, heads.ratio]];
  for (const m of measures) rows.push([m.id, m.what, pairCell(m.left), pairCell(m.right), `${m.ratio.toFixed(2)}×`]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...r[c]!].length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell + ' '.repeat(widths[c]! - [...cell].length)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
