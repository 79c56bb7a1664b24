// Unmodified DDP clients from the npm registry against our server: they connect, log in
// through the second factor and complete a challenge on a protected method.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DDPSDK } from '@rocket.chat/ddp-client';
import simpleDDP from 'simpleddp';
import WebSocket from 'ws';
import { FakeClock } from '../src/core/clock.ts';
import { passwordLoginRequest, sha256 } from './helpers/ddp.ts';
import { emailUserSession, mailedCode, wrongCode } from './helpers/realtime.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

// Node 20 has no WebSocket global; the SDK expects the browser's.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const asMeteorError = async (p: Promise<unknown>): Promise<any> => p.then(
  (r) => { throw new Error(`expected a failure, got ${JSON.stringify(r)}`); },
  (e: unknown) => e,
);

for (const store of storesUnderTest) {
  describe(`npm DDP clients complete a two-factor challenge (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    before(async () => {
      t = await startTestServer({ store, clock });
    });
    after(() => t.close());

    it('@rocket.chat/ddp-client: loginWithPassword is challenged, login {totp} passes, callWithTwoFactorRequired runs', async () => {
      const { ddp: setup } = await emailUserSession(t, 'rc');
      setup.close();
      const sdk = DDPSDK.create(t.url);
      try {
        await sdk.connection.connect();
        let challenge: any;
        const loginCode = await mailedCode(t, clock, 'rc@example.com', async () => {
          challenge = await asMeteorError(sdk.account.loginWithPassword('rc', sha256('rc pw')));
        });
        assert.equal(challenge.error, 'totp-required');
        assert.equal(challenge.details.method, 'email');
        assert.equal(sdk.account.uid, undefined);

        const request = passwordLoginRequest('rc', 'rc pw');
        const result: any = await sdk.client.callAsync('login', { totp: { login: request, code: loginCode } });
        await sdk.account.loginWithToken(result.token);
        assert.equal(sdk.account.uid, result.id);
        assert.equal(((await sdk.call('twofold:me' as never)) as any).username, 'rc');

        let protectedChallenge: any;
        const code = await mailedCode(t, clock, 'rc@example.com', async () => {
          protectedChallenge = await asMeteorError(sdk.call('2fa:disable-email' as never));
        });
        assert.equal(protectedChallenge.error, 'totp-required');
        assert.equal(protectedChallenge.details.codeGenerated, true);
        const done = await sdk.call('callWithTwoFactorRequired' as never, { code, ddpMethod: '2fa:disable-email', method: 'email', params: [] } as never);
        assert.equal(done, true);
        assert.equal(((await sdk.call('twofold:me' as never)) as any).services.email2fa.enabled, false);
      } finally {
        sdk.connection.close();
        sdk.timeoutControl.stop();
      }
    });

    it('@rocket.chat/ddp-client: a protected call retried with the trailing {twoFactorCode, twoFactorMethod} passes', async () => {
      const { token } = await emailUserSession(t, 'rc2');
      const sdk = DDPSDK.create(t.url);
      try {
        await sdk.connection.connect();
        await sdk.account.loginWithToken(token);
        const code = await mailedCode(t, clock, 'rc2@example.com', () => asMeteorError(sdk.call('saveUserProfile' as never, { realname: 'Arcee' } as never)));
        assert.equal(await sdk.call('saveUserProfile' as never, { realname: 'Arcee' } as never, { twoFactorCode: code, twoFactorMethod: 'email' } as never), true);
        assert.equal(((await sdk.call('twofold:me' as never)) as any).name, 'Arcee');
      } finally {
        sdk.connection.close();
        sdk.timeoutControl.stop();
      }
    });

    it('simpleddp: login is challenged, login {totp} passes, a protected call passes through callWithTwoFactorRequired', async () => {
      const { ddp: setup } = await emailUserSession(t, 'simple');
      setup.close();
      const server = new simpleDDP({ endpoint: t.wsUrl, SocketConstructor: WebSocket, reconnectInterval: 60_000 });
      try {
        await server.connect();
        const request = passwordLoginRequest('simple', 'simple pw');
        let challenge: any;
        const loginCode = await mailedCode(t, clock, 'simple@example.com', async () => { challenge = await asMeteorError(server.call('login', request)); });
        assert.equal(challenge.error, 'totp-required');
        const login: any = await server.call('login', { totp: { login: request, code: loginCode } });
        assert.equal(typeof login.token, 'string');
        assert.ok(login.tokenExpires instanceof Date, 'EJSON $date decoded by the client');

        const { rid }: any = await server.call('createChannel', 'simple-room', []);
        const sent: any = await server.call('sendMessage', { rid, msg: 'v1' });
        assert.ok(sent.ts instanceof Date);
        const code = await mailedCode(t, clock, 'simple@example.com', () => server.call('sendEmailCode', 'simple'));
        const wrong = await asMeteorError(server.call('callWithTwoFactorRequired', { code: wrongCode(code), ddpMethod: 'updateMessage', method: 'email', params: [{ _id: sent._id, rid, msg: 'v2' }] }));
        assert.equal(wrong.error, 'totp-invalid');
        const edited: any = await server.call('callWithTwoFactorRequired', { code, ddpMethod: 'updateMessage', method: 'email', params: [{ _id: sent._id, rid, msg: 'v2' }] });
        assert.equal(edited.msg, 'v2');
      } finally {
        await server.disconnect();
      }
    });
  });
}
