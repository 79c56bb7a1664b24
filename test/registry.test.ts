import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ddpError, DdpTestClient } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

// One registry, two transports: the same operation must answer the same on both.

for (const store of storesUnderTest) {
  describe(`registry parity between REST and DDP (${store})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store });
      await t.addUser({ username: 'pat', password: 'pat pw', email: 'pat@example.com' });
    });
    after(() => t.close());

    it('every operation bound to both transports refuses an anonymous or empty call with the same error code', async () => {
      const ddp = await DdpTestClient.open(t.wsUrl);
      let compared = 0;
      for (const op of t.server.registry.all()) {
        // Meteor clients call `logout` on a connection that never logged in and expect success.
        if (!op.rest || !op.ddp || op.name === 'logout') continue;
        const method = Array.isArray(op.rest.method) ? op.rest.method[0]! : op.rest.method;
        const viaRest = await rest(t.url, method, op.rest.path, method === 'GET' ? {} : { body: {} });
        const frame = await ddp.callRaw(op.ddp.name);
        if (viaRest.status === 200) {
          assert.ok(!('error' in frame), `${op.name}: REST passed but DDP failed with ${JSON.stringify(frame.error)}`);
          continue;
        }
        assert.ok('error' in frame, `${op.name}: REST failed (${viaRest.body.errorType ?? viaRest.body.error}) but DDP passed`);
        const restCode = viaRest.body.errorType ?? viaRest.body.error;
        const ddpCode = frame.error.error === 403 ? 'Unauthorized' : frame.error.error;
        assert.equal(ddpCode, restCode, `${op.name}: DDP ${ddpCode} vs REST ${restCode}`);
        compared++;
      }
      assert.ok(compared >= 8, `compared ${compared} operations`);
      ddp.close();
    });

    it('the same call gives the same result and the same second-factor error on both transports', async () => {
      const auth = await restLogin(t.url, 'pat', 'pat pw');
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.call('login', { resume: auth.authToken });

      const meRest = (await rest(t.url, 'GET', '/api/v1/me', { auth })).body;
      const meDdp = await ddp.call('twofold:me');
      delete meRest.success;
      assert.deepEqual(meDdp, meRest);

      assert.equal(await ddp.call('2fa:enable-email'), true);
      // Enabling twice is a state error, the same on both transports.
      assert.equal((await rest(t.url, 'POST', '/api/v1/users.2fa.enableEmail', { auth })).body.errorType, 'error-2fa-already-enabled');
      assert.equal((await ddpError(ddp.call('2fa:enable-email'))).error, 'error-2fa-already-enabled');

      // Disabling always asks: both transports refuse with totp-required and the same details shape.
      const viaRest = await rest(t.url, 'POST', '/api/v1/users.2fa.disableEmail', { auth });
      const viaDdp = await ddpError(ddp.call('2fa:disable-email'));
      assert.equal(viaRest.status, 400);
      assert.equal(viaRest.body.errorType, 'totp-required');
      assert.equal(viaDdp.error, 'totp-required');
      assert.deepEqual(Object.keys(viaDdp.details!).sort(), Object.keys(viaRest.body.details).sort());
      assert.equal(viaDdp.details!.method, viaRest.body.details.method);
      assert.deepEqual(viaDdp.details!.availableMethods, viaRest.body.details.availableMethods);

      const missingRest = await rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: {} });
      const missingDdp = await ddpError(ddp.call('sendEmailCode'));
      assert.equal(missingRest.body.errorType, 'error-parameter-required');
      assert.equal(missingDdp.error, 'error-parameter-required');
      assert.equal(missingDdp.reason, missingRest.body.error.replace(/ \[.*\]$/, ''));
      ddp.close();
    });
  });
}
