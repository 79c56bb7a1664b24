import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildRegistry } from '../operations/index.ts';
import { API_PATHS } from './api.ts';

describe('the shared REST contract', () => {
  it('every path the pages call is a route the server binds', () => {
    const bound = new Set(buildRegistry().all().flatMap((op) => (op.rest ? [op.rest.path] : [])));
    bound.add('/api/info'); // served by the transport itself, beside the registry
    // The recovery call arrives with the security branch; the pages fall back to "ask your administrator" without it.
    const missing = Object.values(API_PATHS).filter((p) => !bound.has(p) && p !== API_PATHS.recover);
    assert.deepEqual(missing, []);
  });
});

describe('the browser app and the contract', () => {
  it('src/web imports the contract for types only, so no server code is bundled into the pages', () => {
    const root = new URL('../web/src/', import.meta.url);
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const valueImports = files.flatMap((f) => readFileSync(new URL(f, root), 'utf8').split('\n')
      .filter((line) => /from '(\.\.\/)+contract\//.test(line) && !/^import type /.test(line))
      .map((line) => `${f}: ${line}`));
    assert.ok(files.length > 5);
    assert.deepEqual(valueImports, []);
  });
});
