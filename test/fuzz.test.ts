// Bad input at scale: generated malformed REST requests (broken JSON, wrong types, huge and
// deeply nested bodies, odd encodings, raw requests with injected or conflicting headers)
// and DDP frames. Every answer must be a documented one, never a 5xx, and the server must
// keep serving. A failure prints the seed; FUZZ_SEED=<seed> replays it.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { errorCatalogue } from '../src/core/errors.ts';
import { DdpTestClient } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const REST_RUNS = 1000;
const RAW_RUNS = 200;
const DDP_RUNS = 1000;
const documented = new Set<string | number>(Object.keys(errorCatalogue));

// ---- what counts as a documented answer ----

/** null when the answer is one the API documents, else what is wrong with it. */
function restProblem(status: number, text: string): string | null {
  if (status >= 500) return `status ${status}`;
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return `${status} not JSON: ${text.slice(0, 120)}`;
  }
  if (status >= 200 && status < 300) return body?.success === true || body?.status === 'success' ? null : `odd success ${text.slice(0, 120)}`;
  if (body?.success === false && documented.has(body.errorType) && String(body.error).endsWith(`[${body.errorType}]`)) return null;
  // The login endpoint's own shapes (spec §1).
  if (body?.status === 'error' && (body.error === 'Unauthorized' || documented.has(body.error))) return null;
  return `undocumented ${status}: ${text.slice(0, 200)}`;
}

const METEOR_NUMERIC = new Set([400, 403, 404]); // Match failed, login failed, no such subscription (spec §2)

function ddpProblem(frame: any): string | null {
  if (frame === null || typeof frame !== 'object') return `not an object: ${String(frame).slice(0, 80)}`;
  if ('unparsable' in frame) return `not JSON: ${String(frame.unparsable).slice(0, 80)}`;
  if (frame.server_id === '0') return null;
  switch (frame.msg) {
    case 'connected': case 'failed': case 'pong': case 'ping': case 'updated': case 'ready':
      return null;
    case 'error':
      return typeof frame.reason === 'string' ? null : 'error frame without reason';
    case 'nosub':
      return frame.error === undefined || frame.error.error === 404 ? null : `nosub ${JSON.stringify(frame.error)}`;
    case 'result': {
      if (typeof frame.id !== 'string') return 'result without id';
      if (!('error' in frame)) return null;
      const e = frame.error;
      const known = documented.has(e?.error) || METEOR_NUMERIC.has(e?.error);
      return known && e.errorType === 'Meteor.Error' && e.isClientSafe === true ? null : `undocumented error ${JSON.stringify(e).slice(0, 200)}`;
    }
    default:
      return `unknown frame ${JSON.stringify(frame).slice(0, 120)}`;
  }
}

// ---- generators ----

const FIELD_NAMES = ['user', 'username', 'email', 'password', 'code', 'resume', 'totp', 'login', 'emailOrUsername', 'data', 'userId',
  'offset', 'count', 'tokenName', 'bypassTwoFactor', 'name', 'pass', 'token', 'method', 'params', 'ddpMethod', 'digest', 'hashed',
  '__proto__', 'constructor', 'prototype', '$where', '$ne', 'ldap'];
const ODD_STRINGS = ['', ' ', '\u0000', '\ud800', '\ufeff', '%00', '../../etc/passwd', '{"$ne":1}', 'a'.repeat(300), '١٢٣٤٥٦', '１２３４５６',
  '123-456', '12345678', 'null', 'undefined', 'NaN', '\u202e', 'ａｄｍｉｎ', 'Ａ'.repeat(70), '\r\nX-Injected: 1', '<script>', "' OR 1=1 --"];

const oddString = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom(...ODD_STRINGS));
const oddValue: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), oddString, fc.constantFrom(null, true, -1, 1e308, 2 ** 53 + 1, [], {}));
const oddObject = fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string()), oddValue, { maxKeys: 6 });
const nested = (depth: number, open: string, close: string, inner = '1') => open.repeat(depth) + inner + close.repeat(depth);
const deepBody = fc.tuple(fc.integer({ min: 40, max: 50_000 }), fc.constantFrom(['[', ']'], ['{"data":', '}'], ['{"user":{"username":', '}}'])).map(([n, [o, c]]) => nested(n, o!, c!));

/** A request body: text or bytes, and how it claims to be encoded. */
const bodyArb: fc.Arbitrary<{ body: string | Uint8Array; type: string }> = fc.oneof(
  { weight: 4, arbitrary: oddObject.map((o) => ({ body: JSON.stringify(o), type: 'application/json' })) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ body: JSON.stringify(v), type: 'application/json' })) },
  { weight: 3, arbitrary: fc.tuple(oddObject, fc.nat({ max: 200 })).map(([o, n]) => ({ body: JSON.stringify(o).slice(0, n), type: 'application/json' })) },
  { weight: 2, arbitrary: oddString.map((s) => ({ body: s, type: 'application/json' })) },
  { weight: 2, arbitrary: deepBody.map((s) => ({ body: s, type: 'application/json' })) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => ({ body: b, type: 'application/json' })) },
  { weight: 2, arbitrary: fc.tuple(oddObject, fc.constantFrom('utf-16le', 'latin1')).map(([o, enc]) => ({
    body: Buffer.concat([Buffer.from(enc === 'utf-16le' ? [0xff, 0xfe] : []), Buffer.from(JSON.stringify(o), enc as BufferEncoding)]),
    type: `application/json; charset=${enc}`,
  })) },
  { weight: 2, arbitrary: fc.tuple(oddString, fc.constantFrom('application/x-www-form-urlencoded', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', '*/*', 'application/json; charset=klingon'))
    .map(([s, type]) => ({ body: s, type })) },
  { weight: 1, arbitrary: fc.constantFrom(150_000, 700_000, 3_000_000).map((n) => ({ body: `{"user":"${'a'.repeat(n)}","password":"x"}`, type: 'application/json' })) },
);

/** Every byte of the UTF-8 (lone surrogates become U+FFFD) as %XX, as a client might send any path. */
const percentEncoded = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** Header values fetch can carry: no NUL, CR or LF, nothing beyond Latin-1 (raw requests cover those). */
const headerSafe = (s: string) => s.replace(/[^\t\u0020-\u007e\u0080-\u00ff]/g, '').trim();

// ---- raw HTTP for what fetch refuses to send ----

function rawRequest(port: number, text: string | Buffer): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(all);
      if (!m) return resolve(null);
      const headers = m[2]!.toLowerCase();
      let body = m[3]!;
      if (/transfer-encoding: chunked/.test(headers)) body = body.replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, '');
      resolve({ status: Number(m[1]), body: Buffer.from(body, 'latin1').toString('utf8') });
    });
    // No half-close: Node's HTTP server drops a request whose client has already ended.
    socket.write(text);
  });
}

const tokenChars = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.'.split('')), minLength: 1, maxLength: 20 });
const injected = fc.oneof(
  fc.string({ unit: 'binary-ascii' }),
  fc.constantFrom('a\r\nX-User-Id: x', 'a\rb', 'a\nb', 'a\u0000b', ' folded\r\n continued', '\u007f', 'Ã©', 'x'.repeat(20_000)),
);
const rawArb = fc.oneof(
  // Header injection and control characters in values of the headers Twofold reads.
  fc.tuple(fc.constantFrom('X-Auth-Token', 'X-User-Id', 'X-2fa-Code', 'X-2fa-Method', 'User-Agent', 'Content-Type'), injected)
    .map(([name, value]) => `GET /api/v1/me HTTP/1.1\r\nHost: t\r\n${name}: ${value}\r\nConnection: close\r\n\r\n`),
  // Bad header names, bare LF line ends, a request line with spaces or controls.
  fc.tuple(injected, tokenChars).map(([name, v]) => `GET /api/info HTTP/1.1\r\nHost: t\r\n${name}: ${v}\r\nConnection: close\r\n\r\n`),
  fc.tuple(fc.constantFrom('GET', 'POST', 'G\u0000T', 'BREW', 'get', ''), injected)
    .map(([m, path]) => `${m} /api/v1/${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`),
  // Conflicting or broken framing: two lengths, length and chunked, bad chunk sizes.
  fc.tuple(fc.nat({ max: 40 }), fc.nat({ max: 40 })).map(([a, b]) => {
    const body = '{"emailOrUsername":"x"}';
    return `POST /api/v1/users.2fa.sendEmailCode HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${a}\r\nContent-Length: ${b}\r\nConnection: close\r\n\r\n${body}`;
  }),
  fc.constantFrom('zz', '-1', '0x10', '99999999999999999999', '1;ext="\r\n"').map((size) =>
    `POST /api/v1/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\nConnection: close\r\n\r\n${size}\r\n{}\r\n0\r\n\r\n`),
  // Too many or too large headers.
  fc.integer({ min: 100, max: 3000 }).map((n) => `GET /api/info HTTP/1.1\r\nHost: t\r\n${Array.from({ length: n }, (_, i) => `X-H${i}: ${'v'.repeat(20)}`).join('\r\n')}\r\nConnection: close\r\n\r\n`),
);

// ---- DDP frames ----

const DDP_MESSAGES = ['connect', 'ping', 'pong', 'method', 'sub', 'unsub', 'nosuch', '', 'METHOD', 'connected', 'result'];
const frameArb = (methods: string[]): fc.Arbitrary<string | Buffer> => fc.oneof(
  { weight: 2, arbitrary: oddString },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 5, arbitrary: fc.record({
    msg: fc.oneof(fc.constantFrom(...DDP_MESSAGES), oddValue),
    id: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), oddValue, fc.constant('x'.repeat(200))),
    method: fc.oneof(fc.constantFrom(...methods), oddValue),
    params: fc.oneof(fc.array(oddValue, { maxLength: 4 }), oddValue,
      fc.constant([{ twoFactorCode: 123456, twoFactorMethod: 'email' }]), fc.constant([{ $date: 'soon' }, { $binary: 42 }, { $escape: 'x' }])),
    version: fc.oneof(fc.constantFrom('1', 'pre1', 'pre2', '2'), oddValue),
    name: fc.oneof(fc.constantFrom('meteor.loginServiceConfiguration', 'users'), oddValue),
  }, { requiredKeys: [] }).map((f) => JSON.stringify(f)) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 3000 }).map((n) => `{"msg":"method","id":"deep","method":"login","params":${nested(n, '[', ']')}}`) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
);

for (const store of storesUnderTest) {
  describe(`fuzzed input never breaks the server (${store}, seed ${SEED})`, () => {
    let t: TestServer;
    type Auth = { userId: string; authToken: string };
    // Fuzzed calls may log their token out: each part gets its own, and the checks another.
    let auth: Auth;
    let restFuzzAuth: Auth;
    let ddpFuzzAuth: Auth;
    before(async () => {
      t = await startTestServer({ store });
      await t.addUser({ username: 'fuzz', password: 'fuzz pw', email2fa: true });
      await t.addUser({ username: 'root', password: 'root pw', roles: ['user', 'admin'] });
      // The checks log in as someone else: a fuzzed call that changes root's protection
      // (e.g. turning email codes on) revokes every token of root's but the one it came with.
      await t.addUser({ username: 'watcher', password: 'watcher pw' });
      [auth, restFuzzAuth, ddpFuzzAuth] = [await restLogin(t.url, 'watcher', 'watcher pw'), await restLogin(t.url, 'root', 'root pw'), await restLogin(t.url, 'root', 'root pw')];
    });
    after(() => t.close());

    async function stillServes() {
      assert.equal((await rest(t.url, 'GET', '/api/info')).status, 200);
      assert.equal((await rest(t.url, 'GET', '/api/v1/me', { auth })).status, 200);
      const ddp = await DdpTestClient.open(t.wsUrl);
      assert.equal((await ddp.call('login', { resume: auth.authToken })).id, auth.userId);
      ddp.close();
    }

    it(`${REST_RUNS} generated REST requests all get documented answers`, async () => {
      const endpoints = t.server.registry.all().flatMap((op) => (op.rest ? [op.rest] : []))
        .flatMap((b) => (Array.isArray(b.method) ? b.method : [b.method]).map((method) => ({ method, path: b.path })));
      const requestArb = fc.record({
        endpoint: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...endpoints) },
          { weight: 1, arbitrary: fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), oddString).map(([method, p]) => ({ method, path: `/api/v1/${percentEncoded(p)}` })) }),
        body: bodyArb,
        query: fc.dictionary(fc.oneof(fc.constantFrom('offset', 'count', 'userId', 'emailOrUsername', '__proto__'), fc.string()), oddString, { maxKeys: 3 }),
        rawQuery: fc.constantFrom('', '%zz', '%00', '&&&', '=x', 'a[b]=1', 'count=1e9'),
        authed: fc.boolean(),
        twoFactor: fc.option(fc.tuple(oddString, oddString)),
      });
      const requests = fc.sample(requestArb, { numRuns: REST_RUNS, seed: SEED });
      const problems: string[] = [];
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < requests.length; i = next++) {
          const r = requests[i]!;
          const headers: Record<string, string> = {};
          if (r.authed) Object.assign(headers, { 'x-user-id': restFuzzAuth.userId, 'x-auth-token': restFuzzAuth.authToken });
          if (r.twoFactor) Object.assign(headers, { 'x-2fa-code': headerSafe(r.twoFactor[0]), 'x-2fa-method': headerSafe(r.twoFactor[1]) });
          const hasBody = !['GET', 'DELETE', 'OPTIONS'].includes(r.endpoint.method);
          if (hasBody) headers['content-type'] = r.body.type;
          const qs = new URLSearchParams(r.query as Record<string, string>).toString();
          const url = `${t.url}${r.endpoint.path}?${qs}${r.rawQuery ? `&${r.rawQuery}` : ''}`;
          try {
            const res = await fetch(url, { method: r.endpoint.method, headers, body: hasBody ? (typeof r.body.body === 'string' ? r.body.body : Buffer.from(r.body.body)) as BodyInit : undefined });
            const problem = restProblem(res.status, await res.text());
            if (problem) problems.push(`#${i} ${r.endpoint.method} ${r.endpoint.path}: ${problem}`);
          } catch (e) {
            // A body far over the limit may be cut off while still uploading, after the answer.
            const huge = typeof r.body.body === 'string' && r.body.body.length > t.server.app.settings.maxBodyBytes;
            if (!huge) problems.push(`#${i} ${r.endpoint.method} ${r.endpoint.path}: ${(e as Error).message} ${String((e as { cause?: unknown }).cause)}`);
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      assert.deepEqual(problems.slice(0, 10), [], `seed ${SEED}: ${problems.length} problems`);
      await stillServes();
    });

    it(`${RAW_RUNS} raw HTTP requests with injected, conflicting or oversized headers get documented answers`, async () => {
      const requests = fc.sample(rawArb, { numRuns: RAW_RUNS, seed: SEED });
      const problems: string[] = [];
      let answered = 0;
      for (const [i, text] of requests.entries()) {
        const res = await rawRequest(t.server.port, Buffer.from(text, 'latin1'));
        if (!res) {
          problems.push(`#${i} no answer to ${JSON.stringify(text.slice(0, 120))}`);
          continue;
        }
        answered++;
        const problem = restProblem(res.status, res.body);
        if (problem) problems.push(`#${i} ${JSON.stringify(text.slice(0, 120))}: ${problem}`);
      }
      assert.deepEqual(problems.slice(0, 10).map((p) => JSON.stringify(p)), [], `seed ${SEED}: ${problems.length} problems`);
      assert.equal(answered, RAW_RUNS);
      await stillServes();
    });

    it(`${DDP_RUNS} generated DDP frames all get documented answers and the connections stay up`, async () => {
      const methods = [...t.server.registry.all().flatMap((op) => (op.ddp ? [op.ddp.name] : [])), 'noSuchMethod'];
      const frames = fc.sample(frameArb(methods), { numRuns: DDP_RUNS, seed: SEED });
      const clients = await Promise.all(Array.from({ length: 4 }, () => DdpTestClient.open(t.wsUrl)));
      // A fresh login: the REST fuzz may have changed root's protection (e.g. turned email codes
      // on, which revokes older tokens); put it back so the login is a plain one.
      const root = (await t.server.app.store.users.byUsername('root'))!;
      await t.server.app.store.users.update(root.id, { email2faEnabled: false });
      ddpFuzzAuth = await restLogin(t.url, 'root', 'root pw');
      await clients[0]!.call('login', { resume: ddpFuzzAuth.authToken });
      const problems: string[] = [];
      const BATCH = 40;
      for (let start = 0; start < frames.length; start += BATCH) {
        const ddp = clients[(start / BATCH) % clients.length]!;
        for (const frame of frames.slice(start, start + BATCH)) {
          if (typeof frame === 'string') ddp.send(frame);
          else ddp.socket.send(frame, { binary: true });
        }
        // Methods run in order per connection: once this one is answered, so is every frame before it.
        const sentinel = `sentinel-${start}`;
        ddp.send({ msg: 'method', id: sentinel, method: 'noSuchMethod', params: [] });
        await ddp.waitFor((f) => f.msg === 'result' && f.id === sentinel, 20_000);
      }
      for (const [i, ddp] of clients.entries()) {
        for (const f of ddp.frames) {
          const problem = ddpProblem(f);
          if (problem) problems.push(`client ${i}: ${problem}`);
        }
        assert.equal(ddp.socket.readyState, WebSocket.OPEN, `client ${i} still connected`);
        ddp.send({ msg: 'ping', id: 'alive' });
        assert.equal((await ddp.waitFor((f) => f.msg === 'pong' && f.id === 'alive')).msg, 'pong');
        ddp.close();
      }
      assert.deepEqual(problems.slice(0, 10), [], `seed ${SEED}: ${problems.length} problems`);
      await stillServes();
    });

    it('an oversized DDP frame closes only its own socket, with code 1009', async () => {
      const other = await DdpTestClient.open(t.wsUrl);
      for (const size of [t.server.app.settings.maxFrameBytes + 1, 5 * 1024 * 1024]) {
        const ddp = await DdpTestClient.open(t.wsUrl);
        ddp.send(JSON.stringify({ msg: 'method', id: '1', method: 'login', params: ['x'.repeat(size)] }));
        assert.equal((await ddp.closed).code, 1009);
      }
      other.send({ msg: 'ping', id: 'still' });
      assert.equal((await other.waitFor((f) => f.id === 'still')).msg, 'pong');
      other.close();
      await stillServes();
    });
  });
}
