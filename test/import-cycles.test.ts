// No import cycles in src/ (what `madge --circular` checks, without the dependency): a cycle
// makes module start-up order matter and lets a low layer reach a high one.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative imports that exist at run time: `import type` and `export type` are erased. */
export function runtimeImports(text: string): string[] {
  const out: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) if (!m[2]) out.push(m[3]!);
  return out;
}

function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    g.set(file, runtimeImports(readFileSync(file, 'utf8')).map((spec) => resolve(dirname(file), spec)));
  }
  return g;
}

function findCycle(g: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 'done') return null;
    if (state.get(n) === 'open') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'open');
    stack.push(n);
    for (const next of g.get(n) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of g.keys()) {
    const found = visit(n);
    if (found) return found;
  }
  return null;
}

describe('import graph of src/', () => {
  it('has no cycle among run-time imports', () => {
    const g = graph();
    assert.ok(g.size > 50, `expected the whole tree, found ${g.size} files`);
    const cycle = findCycle(g);
    assert.equal(cycle && cycle.map((f) => relative(SRC, f)).join(' -> '), null);
  });

  it('sees multi-line imports and skips type-only ones (so a cycle would be found)', () => {
    assert.deepEqual(runtimeImports("import {\n  a,\n  b,\n} from './x.ts';\nimport type { C } from './y.ts';\nexport { d } from '../z.ts';\n"), ['./x.ts', '../z.ts']);
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]);
    assert.deepEqual(findCycle(g), ['a', 'b', 'c', 'a']);
  });
});

describe('the second-factor road', () => {
  it('invoke is the only caller of the engine\'s checks: no operation or transport checks a code itself', () => {
    const callers = sourceFiles(SRC)
      .filter((f) => !f.startsWith(join(SRC, 'core', 'twofactor')))
      .filter((f) => /\b(checkSecondFactor|checkAuthenticatorCode|checkEnrolmentCode|guardedCheck)\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    assert.deepEqual(callers, [join('operations', 'invoke.ts')]);
  });
});
