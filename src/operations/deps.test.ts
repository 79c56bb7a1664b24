import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { storesUnderTest } from '../../test/helpers/stores.ts';
import { DEP_NAMES, pickDeps } from './deps.ts';
import { invoke } from './invoke.ts';
import { defineOperation, type OperationContext } from './registry.ts';

// Each operation declares what its code uses; invoke hands it those and nothing else.

const peek = defineOperation({
  name: 'test.peek',
  summary: 'Says what its code was handed.',
  auth: 'user',
  uses: ['users', 'clock'],
  secondFactor: { kind: 'none' },
  input: z.object({}),
  ddp: { name: 'test:peek' },
  async handler(ctx) {
    // What is not declared is refused by the compiler (npm run typecheck checks these lines)…
    // @ts-expect-error `mailer` is not in `uses`
    void ctx.deps.mailer;
    // @ts-expect-error the operation's code has no app, only its dependencies
    void ctx.app;
    const self = await ctx.deps.users.byId(ctx.user.id);
    // …and is absent at run time too, whatever a cast might try.
    return { names: Object.keys(ctx.deps).sort(), hasApp: 'app' in ctx, found: self?.username, now: ctx.deps.clock.now() };
  },
});

for (const store of storesUnderTest) {
  describe(`declared dependencies (${store})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store });
    });
    after(() => t.close());

    it('an operation\'s code gets exactly the dependencies it declares, working, and not the app', async () => {
      const user = await t.addUser({ username: 'dora', password: 'dora pw' });
      const ctx: OperationContext = {
        app: t.server.app, transport: 'ddp', clientAddress: '127.0.0.1', userAgent: 'test', user, token: null, answer: {},
        session: { loggedIn() {}, loggedOut() {} },
      };
      const seen = await invoke(peek, ctx, {});
      assert.deepEqual(seen.names, ['clock', 'users']);
      assert.equal(seen.hasApp, false);
      assert.equal(seen.found, 'dora');
      assert.ok(Number.isFinite(seen.now));
    });

    it('every name an operation may declare resolves to a part of the running app', () => {
      const all = pickDeps(t.server.app, DEP_NAMES);
      for (const name of DEP_NAMES) assert.ok(all[name] !== undefined && all[name] !== null, name);
      for (const op of t.server.registry.all()) {
        for (const name of op.uses) assert.ok((DEP_NAMES as readonly string[]).includes(name), `${op.name} uses ${name}`);
      }
    });
  });
}
