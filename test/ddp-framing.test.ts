// DDP framing as spec §2 describes it, seen frame by frame over a real WebSocket.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { FakeClock } from '../src/core/clock.ts';
import { DdpTestClient } from './helpers/ddp.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

/** The first text the server sends on a fresh socket. */
function firstText(url: string): Promise<{ text: string; socket: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('message', (data) => resolve({ text: data.toString(), socket }));
    socket.once('error', reject);
  });
}

for (const store of storesUnderTest) {
  describe(`DDP framing (${store})`, () => {
    let t: TestServer;
    // The keep-alive measures quiet on this clock; only the heartbeat test moves it.
    const clock = new FakeClock();
    before(async () => {
      t = await startTestServer({ store, clock, settings: { maxFrameBytes: 1024, ddpPingInterval: 1 } });
      await t.addUser({ username: 'fay', password: 'fay pw' });
    });
    after(() => t.close());

    it('a new socket first gets {"server_id":"0"}, exactly that text', async () => {
      const { text, socket } = await firstText(t.wsUrl);
      assert.equal(text, '{"server_id":"0"}');
      socket.close();
    });

    it('connect with version 1, pre2 or pre1 is answered with connected and a fresh session; others with failed', async () => {
      const sessions = new Set<string>();
      for (const version of ['1', 'pre2', 'pre1']) {
        const ddp = await DdpTestClient.open(t.wsUrl, { connect: false });
        ddp.send({ msg: 'connect', version, support: [version], session: 'client-chosen' });
        const frame = await ddp.waitFor((f) => f.msg === 'connected' || f.msg === 'failed');
        assert.equal(frame.msg, 'connected', version);
        assert.equal(typeof frame.session, 'string');
        assert.notEqual(frame.session, 'client-chosen');
        sessions.add(frame.session);
        ddp.close();
      }
      assert.equal(sessions.size, 3);
      const old = await DdpTestClient.open(t.wsUrl, { connect: false });
      old.send({ msg: 'connect', version: '0.9', support: ['0.9'] });
      assert.deepEqual(await old.waitFor((f) => f.msg === 'failed'), { msg: 'failed', version: '1' });
      old.close();
    });

    it('a method before connect is a msg:error, and the socket stays usable', async () => {
      const ddp = await DdpTestClient.open(t.wsUrl, { connect: false });
      ddp.send({ msg: 'method', id: '1', method: 'twofold:me', params: [] });
      const error = await ddp.waitFor((f) => f.msg === 'error');
      assert.equal(error.reason, 'Must connect first');
      ddp.send({ msg: 'connect', version: '1', support: ['1'] });
      await ddp.waitFor((f) => f.msg === 'connected');
      ddp.close();
    });

    it('ping is answered with pong, echoing the id only when there is one; pong from the client is accepted either way', async () => {
      const ddp = await DdpTestClient.open(t.wsUrl);
      ddp.send({ msg: 'ping', id: 'p1' });
      assert.deepEqual(await ddp.waitFor((f) => f.msg === 'pong'), { msg: 'pong', id: 'p1' });
      ddp.send({ msg: 'ping' });
      assert.deepEqual(await ddp.waitFor((f) => f.msg === 'pong'), { msg: 'pong' });
      ddp.send({ msg: 'pong' });
      ddp.send({ msg: 'pong', id: 'x' });
      ddp.send({ msg: 'ping', id: 'after' });
      assert.deepEqual(await ddp.waitFor((f) => f.msg === 'pong'), { msg: 'pong', id: 'after' });
      assert.ok(!ddp.frames.some((f) => f.msg === 'error'));
      ddp.close();
    });

    it('a result has no error key on success and no result key for a void method; updated follows each', async () => {
      const ddp = await DdpTestClient.open(t.wsUrl);
      const login = await ddp.callRaw('login', { user: { username: 'fay' }, password: 'fay pw' });
      assert.deepEqual(Object.keys(login).sort(), ['id', 'msg', 'result']);
      assert.deepEqual(await ddp.waitFor((f) => f.msg === 'updated'), { msg: 'updated', methods: [login.id] });
      const logout = await ddp.callRaw('logout');
      assert.deepEqual(logout, { msg: 'result', id: logout.id });
      assert.deepEqual(await ddp.waitFor((f) => f.msg === 'updated'), { msg: 'updated', methods: [logout.id] });
      const failed = await ddp.callRaw('twofold:me');
      assert.deepEqual(Object.keys(failed).sort(), ['error', 'id', 'msg']);
      assert.deepEqual(Object.keys(failed.error), ['isClientSafe', 'error', 'reason', 'message', 'errorType']);
      assert.deepEqual(await ddp.waitFor((f) => f.msg === 'updated'), { msg: 'updated', methods: [failed.id] });
      ddp.close();
    });

    it('sub is answered with ready for the login service configuration and nosub for anything else', async () => {
      const ddp = await DdpTestClient.open(t.wsUrl);
      ddp.send({ msg: 'sub', id: 's1', name: 'meteor.loginServiceConfiguration', params: [] });
      assert.deepEqual(await ddp.waitFor((f) => f.msg === 'ready'), { msg: 'ready', subs: ['s1'] });
      ddp.send({ msg: 'sub', id: 's2', name: 'stream-room-messages', params: ['x', false] });
      const nosub = await ddp.waitFor((f) => f.msg === 'nosub');
      assert.equal(nosub.id, 's2');
      assert.equal(nosub.error.error, 404);
      assert.equal(nosub.error.errorType, 'Meteor.Error');
      ddp.send({ msg: 'unsub', id: 's1' });
      assert.deepEqual(await ddp.waitFor((f) => f.msg === 'nosub'), { msg: 'nosub', id: 's1' });
      ddp.close();
    });

    it('bad frames get msg:error with the offending message and the connection stays', async () => {
      const ddp = await DdpTestClient.open(t.wsUrl);
      const bad: [string | Buffer, string][] = [
        ['{not json', 'Bad request: not JSON'],
        ['[1,2]', 'Bad request: no msg'],
        ['{"msg": 42}', 'Bad request: no msg'],
        ['{"msg":"teleport"}', 'Bad request: unknown msg'],
        ['{"msg":"method","method":"twofold:me"}', 'Bad request: method needs a string id'],
        ['{"msg":"sub","name":"x"}', 'Bad request: sub needs a string id'],
        [JSON.stringify({ msg: 'method', id: 'deep', method: 'x', params: [JSON.parse('['.repeat(100) + ']'.repeat(100))] }), 'Bad request: too deeply nested'],
      ];
      for (const [text, reason] of bad) {
        ddp.send(text);
        const error = await ddp.waitFor((f) => f.msg === 'error');
        assert.equal(error.reason, reason, String(text));
        assert.ok('offendingMessage' in error, String(text));
      }
      ddp.socket.send(Buffer.from([1, 2, 3]), { binary: true });
      assert.equal((await ddp.waitFor((f) => f.msg === 'error')).reason, 'Bad request: binary frames are not DDP');
      ddp.send({ msg: 'method', id: 'na', method: 'twofold:me', params: { 0: 1 } });
      const notArray = await ddp.waitFor((f) => f.msg === 'result' && f.id === 'na');
      assert.equal(notArray.error.error, 'error-invalid-params');
      const ok = await ddp.call('login', { user: { username: 'fay' }, password: 'fay pw' });
      assert.equal(typeof ok.token, 'string');
      ddp.close();
    });

    it('EJSON dates come in as {"$date": ms} and go out the same way', async () => {
      const ddp = await DdpTestClient.open(t.wsUrl);
      await ddp.call('login', { user: { username: 'fay' }, password: 'fay pw' });
      const { rid } = await ddp.call('createChannel', 'ejson-room', []);
      const sent = await ddp.call('sendMessage', { rid, msg: 'dated' });
      assert.equal(typeof sent.ts.$date, 'number');
      // History before the message's own time is empty; after it, the message is there.
      assert.deepEqual((await ddp.call('loadHistory', rid, { $date: sent.ts.$date }, 10)).messages, []);
      const later = await ddp.call('loadHistory', rid, { $date: sent.ts.$date + 1 }, 10);
      assert.deepEqual(later.messages.map((m: any) => m._id), [sent._id]);
      ddp.close();
    });

    it('a frame over the size limit closes the socket with code 1009; the server keeps serving others', async () => {
      const ddp = await DdpTestClient.open(t.wsUrl);
      ddp.send({ msg: 'method', id: 'big', method: 'sendEmailCode', params: ['x'.repeat(2048)] });
      const closed = await ddp.closed;
      assert.equal(closed.code, 1009);
      const next = await DdpTestClient.open(t.wsUrl);
      assert.equal((await next.call('login', { user: { username: 'fay' }, password: 'fay pw' })).type, 'password');
      next.close();
    });

    it('the server pings a client quiet for the ping interval and closes one quiet for twice that', async () => {
      const ddp = await DdpTestClient.open(t.wsUrl);
      const other = await DdpTestClient.open(t.wsUrl);
      clock.advance(1);
      const ping = await ddp.waitFor((f) => f.msg === 'ping');
      assert.deepEqual(ping, { msg: 'ping' });
      // The other client answers and so counts as heard from; the first stays silent.
      await other.waitFor((f) => f.msg === 'ping');
      other.send({ msg: 'pong' });
      // Frames are read in order: once this is answered, the pong has been seen.
      other.send({ msg: 'ping', id: 'after-pong' });
      await other.waitFor((f) => f.msg === 'pong' && f.id === 'after-pong');
      clock.advance(1.5);
      const closed = await ddp.closed;
      assert.ok(closed.code === 1006 || closed.code === 1005 || closed.code === 1000, String(closed.code));
      // Heard from 1.5 s ago: still served.
      other.send({ msg: 'ping', id: 'alive' });
      assert.deepEqual(await other.waitFor((f) => f.msg === 'pong'), { msg: 'pong', id: 'alive' });
      other.close();
    });
  });
}
