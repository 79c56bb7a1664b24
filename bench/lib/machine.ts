import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
  uvThreadpoolSize: number;
  openFilesHardLimit: number | null;
  loadAverage: { atStart: number[]; atEnd?: number[] };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch { /* not Linux */ }
  return os.cpus()[0]?.model ?? 'unknown';
}

/** Node raises its own soft limit of open files to the hard one at start, so the hard one counts. */
export function openFilesHardLimit(): number | null {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(out);
  } catch {
    return null;
  }
}

export function describeMachine(): Machine {
  return {
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: cpuModel(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE) || 4,
    openFilesHardLimit: openFilesHardLimit(),
    loadAverage: { atStart: os.loadavg().map((n) => Math.round(n * 100) / 100) },
  };
}
