import { existsSync, mkdtempSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RAM_DIR = '/dev/shm';
const ROOM_NEEDED = 512 * 2 ** 20;

function ramHasRoom(): boolean {
  try {
    if (!existsSync(RAM_DIR)) return false;
    const s = statfsSync(RAM_DIR);
    return s.bavail * s.bsize >= ROOM_NEEDED;
  } catch {
    return false;
  }
}

// TEST_SCRATCH_DIR chooses another place (e.g. a disk, to compare).
const base = process.env.TEST_SCRATCH_DIR || (ramHasRoom() ? RAM_DIR : tmpdir());

/**
 * A fresh directory for a test's data dir, in RAM when the machine has room there: SQLite runs
 * with synchronous=FULL, and on a disk every commit would wait for an fsync (most of a
 * database-bound test's time on a busy machine). Durability on a real disk is what
 * test/crash.test.ts checks, and it keeps its data on the disk.
 */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(base, prefix));
}
