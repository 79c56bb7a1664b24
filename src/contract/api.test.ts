import assert from 'node:assert/strict';
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
