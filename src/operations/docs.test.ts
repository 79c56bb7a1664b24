import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderApiDoc } from './docs.ts';
import { buildRegistry } from './index.ts';

describe('API documentation', () => {
  it('docs/api.md lists every operation of the registry (run `npm run docs:api` after a change)', () => {
    const onDisk = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    assert.equal(onDisk, renderApiDoc(buildRegistry()));
  });

  it('every operation has a summary and at least one binding; REST paths and DDP names are unique', () => {
    const registry = buildRegistry();
    const paths = new Set<string>();
    for (const op of registry.all()) {
      assert.ok(op.summary.length > 10, op.name);
      assert.ok(op.rest || op.ddp, `${op.name} is reachable`);
      if (op.rest) {
        for (const m of [op.rest.method].flat()) {
          const key = `${m} ${op.rest.path}`;
          assert.ok(!paths.has(key), key);
          paths.add(key);
        }
      }
    }
  });
});
