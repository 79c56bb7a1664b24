// Meteor's browser client reaches DDP through SockJS: GET /sockjs/info, then a WebSocket at
// /sockjs/<server>/<session>/websocket speaking SockJS framing (o, a[...], h, c[code,reason])
// around the same DDP sessions as /websocket. Tested with the real sockjs-client and frame by frame.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SockJS from 'sockjs-client';
import WebSocket from 'ws';
import { FakeClock } from '../src/core/clock.ts';
import { DdpTestClient, passwordLoginRequest } from './helpers/ddp.ts';
import { mailedCode, wrongCode } from './helpers/realtime.ts';
import { rest } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

/** The part of sockjs-client's WebSocket-like object that Meteor uses. */
interface SockjsSocket {
  onopen: (() => void) | null;
  onclose: ((e: { code: number; reason: string }) => void) | null;
  onmessage: ((e: { data: string }) => void) | null;
  send(text: string): void;
  close(): void;
}

/** DDP over a sockjs-client socket: what Meteor's client does on top of SockJS. */
class SockjsDdp {
  private nextId = 1;
  private readonly pending = new Map<string, (frame: any) => void>();
  readonly received: any[] = [];
  private constructor(readonly sock: SockjsSocket) {
    sock.onmessage = (e) => {
      const frame = JSON.parse(e.data);
      this.received.push(frame);
      if (frame.msg === 'result') this.pending.get(frame.id)?.(frame);
      if (frame.msg === 'connected') this.pending.get('connect')?.(frame);
    };
  }

  static async open(base: string): Promise<SockjsDdp> {
    const sock = new SockJS(`${base}/sockjs`, null, { transports: ['websocket'] }) as unknown as SockjsSocket;
    const ddp = new SockjsDdp(sock);
    await new Promise<void>((resolve, reject) => {
      sock.onopen = () => resolve();
      sock.onclose = (e) => reject(new Error(`closed ${e.code} ${e.reason}`));
    });
    const connected = new Promise((resolve) => ddp.pending.set('connect', resolve));
    sock.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1', 'pre2', 'pre1'] }));
    await connected;
    return ddp;
  }

  callRaw(method: string, ...params: unknown[]): Promise<any> {
    const id = String(this.nextId++);
    const result = new Promise((resolve) => this.pending.set(id, resolve));
    this.sock.send(JSON.stringify({ msg: 'method', id, method, params }));
    return result;
  }

  close(): void {
    this.sock.close();
  }
}

/** A raw WebSocket on the SockJS path, collecting every text frame as sent. */
async function rawSockjs(url: string): Promise<{ socket: WebSocket; next(): Promise<string>; closed: Promise<number> }> {
  const socket = new WebSocket(url);
  const queue: string[] = [];
  const waiting: ((s: string) => void)[] = [];
  socket.on('message', (data) => {
    const text = data.toString();
    const w = waiting.shift();
    if (w) w(text);
    else queue.push(text);
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => { socket.once('open', () => resolve()); socket.once('error', reject); });
  return {
    socket, closed,
    next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve))),
  };
}

for (const store of storesUnderTest) {
  describe(`SockJS path (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    let sockjsBase: string;
    before(async () => {
      t = await startTestServer({ store, clock });
      sockjsBase = `${t.wsUrl.replace(/\/websocket$/, '')}/sockjs`;
      const user = await t.addUser({ username: 'wren', password: 'wren pw' });
      await t.server.app.store.users.update(user.id, { email2faEnabled: true });
    });
    after(() => t.close());

    it('GET /sockjs/info says the server speaks WebSocket, with a random entropy', async () => {
      const a = await rest(t.url, 'GET', '/sockjs/info?cb=x1');
      const b = await rest(t.url, 'GET', '/sockjs/info');
      assert.equal(a.status, 200);
      assert.match(a.headers.get('content-type') ?? '', /^application\/json/);
      assert.match(a.headers.get('cache-control') ?? '', /no-store/);
      assert.deepEqual({ ...a.body, entropy: 0 }, { websocket: true, origins: ['*:*'], cookie_needed: false, entropy: 0 });
      assert.ok(Number.isInteger(a.body.entropy) && a.body.entropy >= 0);
      assert.notEqual(a.body.entropy, b.body.entropy);
    });

    it('the sockjs-client package: connect, login with a second factor, a protected method with the trailing code', async () => {
      const ddp = await SockjsDdp.open(t.url);
      assert.deepEqual(ddp.received[0], { server_id: '0' });
      const request = passwordLoginRequest('wren', 'wren pw');
      let challenge: any;
      const code = await mailedCode(t, clock, 'wren@example.com', async () => { challenge = await ddp.callRaw('login', request); });
      assert.equal(challenge.error.error, 'totp-required');
      assert.equal(challenge.error.details.method, 'email');
      const login = await ddp.callRaw('login', { totp: { login: request, code } });
      assert.equal(typeof login.result.token, 'string');
      assert.equal((await ddp.callRaw('twofold:me')).result.username, 'wren');

      // Login codes are not remembered: the protected method asks, and takes the trailing code.
      let asked: any;
      const code2 = await mailedCode(t, clock, 'wren@example.com', async () => { asked = await ddp.callRaw('saveUserProfile', { realname: 'Wren W' }); });
      assert.equal(asked.error.error, 'totp-required');
      assert.equal((await ddp.callRaw('saveUserProfile', { realname: 'Wren W' }, { twoFactorCode: wrongCode(code2), twoFactorMethod: 'email' })).error.error, 'totp-invalid');
      const saved = await ddp.callRaw('saveUserProfile', { realname: 'Wren W' }, { twoFactorCode: code2, twoFactorMethod: 'email' });
      assert.deepEqual(saved, { msg: 'result', id: saved.id, result: true });
      assert.equal((await ddp.callRaw('twofold:me')).result.name, 'Wren W');
      // Each result is followed by its `updated`, as on the plain socket.
      assert.ok(ddp.received.some((f) => f.msg === 'updated' && f.methods[0] === saved.id));
      ddp.close();
    });

    it('frame by frame: o, then a["…"] batches; the client sends an array of strings or one string', async () => {
      const { socket, next } = await rawSockjs(`${sockjsBase}/123/abcdefgh/websocket`);
      assert.equal(await next(), 'o');
      assert.equal(await next(), 'a["{\\"server_id\\":\\"0\\"}"]');
      socket.send(JSON.stringify([JSON.stringify({ msg: 'connect', version: '1', support: ['1'] })]));
      const connected = await next();
      assert.match(connected, /^a\["{\\"msg\\":\\"connected\\",\\"session\\":\\"[^"\\]+\\"}"]$/);
      // Two DDP messages in one SockJS frame are both handled, in order.
      socket.send(JSON.stringify([JSON.stringify({ msg: 'ping', id: 'p1' }), JSON.stringify({ msg: 'ping', id: 'p2' })]));
      assert.equal(await next(), 'a["{\\"msg\\":\\"pong\\",\\"id\\":\\"p1\\"}"]');
      assert.equal(await next(), 'a["{\\"msg\\":\\"pong\\",\\"id\\":\\"p2\\"}"]');
      // One bare JSON string is one message.
      socket.send(JSON.stringify(JSON.stringify({ msg: 'method', id: 'm1', method: 'twofold:me', params: [] })));
      const answer = JSON.parse((await next()).slice(1)).map((s: string) => JSON.parse(s));
      assert.equal(answer.length, 2, 'result and updated leave in one frame');
      assert.equal(answer[0].msg, 'result');
      assert.equal(answer[0].error.error, 'unauthorized');
      assert.deepEqual(answer[1], { msg: 'updated', methods: ['m1'] });
      // A bad DDP message inside good framing is a DDP error; the socket stays.
      socket.send(JSON.stringify(['not json']));
      assert.equal(JSON.parse(JSON.parse((await next()).slice(1))[0]).msg, 'error');
      socket.close();
    });

    it('broken SockJS framing closes with c[3000,"Broken framing."]', async () => {
      const { socket, next, closed } = await rawSockjs(`${sockjsBase}/7/x1y2z3/websocket`);
      await next();
      await next();
      socket.send('{"msg":"connect"}');
      assert.equal(await next(), 'c[3000,"Broken framing."]');
      assert.equal(await closed, 3000);
    });

    it('/sockjs/websocket and /websocket stay raw DDP; other sockjs paths are 404', async () => {
      for (const path of ['/websocket', '/sockjs/websocket']) {
        const { socket, next } = await rawSockjs(t.wsUrl.replace(/\/websocket$/, path));
        assert.equal(await next(), '{"server_id":"0"}');
        socket.close();
      }
      const plain = await DdpTestClient.open(t.wsUrl);
      assert.equal((await plain.callRaw('twofold:me')).error.error, 'unauthorized');
      plain.close();
      for (const path of ['/sockjs/1/2/xhr_streaming', '/sockjs/1/a.b/websocket', '/sockjs/1/websocket']) {
        await assert.rejects(rawSockjs(`${sockjsBase.replace(/\/sockjs$/, '')}${path}`), /404/, path);
      }
    });
  });
}
