// GET /api/openapi.json: a valid OpenAPI 3.1 document of every REST binding of the registry,
// whose documented error bodies are the ones the server really sends.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
// ajv and ajv-formats are in node_modules as dependencies of fastify and of the OpenAPI validator.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { z } from 'zod';
import type { TwofoldError } from '../src/core/errors.ts';
import { defineOperation, Registry } from '../src/operations/registry.ts';
import { buildOpenApiDocument } from '../src/transport/rest/openapi.ts';
import { sha256 } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

type Doc = Record<string, any>;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

async function assertValidOpenApi(doc: Doc): Promise<Doc> {
  const validator = new Validator();
  // The validator resolves references in place: give it a copy.
  const result = await validator.validate(structuredClone(doc));
  assert.ok(result.valid, `invalid OpenAPI document: ${JSON.stringify(result.errors, null, 1)?.slice(0, 2000)}`);
  assert.equal(validator.version, '3.1');
  return validator.resolveRefs() as Doc;
}

/** JSON Schema validators for any place of the document; `$ref`s resolve inside it. */
function schemaChecker(doc: Doc) {
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
  ajv.addSchema(doc, 'urn:twofold:openapi');
  const pointer = (parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
  return {
    at(...parts: string[]) {
      return ajv.compile({ $ref: `urn:twofold:openapi#/${pointer(parts)}` });
    },
    responseSchema(path: string, method: string, status: string) {
      return this.at('paths', path, method, 'responses', status, 'content', 'application/json', 'schema');
    },
  };
}

function operations(doc: Doc): { path: string; method: string; op: Doc }[] {
  return Object.entries(doc.paths as Doc).flatMap(([path, item]) =>
    Object.entries(item as Doc).filter(([m]) => HTTP_METHODS.includes(m)).map(([method, op]) => ({ path, method, op: op as Doc })));
}

/** Structural checks beyond the OpenAPI schema: unique ids, declared path parameters, every JSON Schema compiles. */
function assertWellFormed(doc: Doc, resolved: Doc): void {
  const ids = operations(doc).map((o) => o.op.operationId);
  assert.equal(new Set(ids).size, ids.length, `duplicate operationIds: ${ids.filter((id, i) => ids.indexOf(id) !== i)}`);
  for (const { path, method, op } of operations(resolved)) {
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const declared = (op.parameters ?? []).filter((p: Doc) => p.in === 'path').map((p: Doc) => p.name);
    assert.deepEqual(declared.sort(), templated.sort(), `${method} ${path}: path parameters`);
    const seen = (op.parameters ?? []).map((p: Doc) => `${p.in}:${p.name.toLowerCase()}`);
    assert.equal(new Set(seen).size, seen.length, `${method} ${path}: a parameter declared twice`);
  }
  const check = schemaChecker(doc);
  for (const name of Object.keys(doc.components.schemas)) check.at('components', 'schemas', name);
  for (const { path, method, op } of operations(doc)) {
    for (const status of Object.keys(op.responses)) {
      if (op.responses[status].content) check.responseSchema(path, method, status);
    }
  }
}

describe('OpenAPI generator', () => {
  it('documents any operation: path parameters, preprocessed and recursive inputs, several methods, custom error bodies, DDP-only', async () => {
    interface Node { name: string; children: Node[] }
    const node: z.ZodType<Node> = z.lazy(() => z.object({ name: z.string(), children: z.array(node) }));
    const Shared = z.object({ n: z.string() }).meta({ id: 'Shared Thing/1' });
    const registry = new Registry().add(
      defineOperation({
        name: 'things.get', summary: 'A thing by id.', auth: 'optional', uses: [], secondFactor: { kind: 'none' },
        input: z.preprocess((v) => v ?? {}, z.object({ id: z.string(), at: z.date().optional(), n: z.string().transform(Number).optional() })),
        rest: { method: 'GET', path: '/api/v1/things/:id', input: ({ query }) => query },
        async handler() { return {}; },
      }),
      defineOperation({
        name: 'things.tree', summary: 'Store a tree.', auth: 'admin', uses: [], secondFactor: { kind: 'depends', choose: () => 'ask' },
        input: z.object({ root: node, a: Shared, b: Shared }),
        rest: { method: ['POST', 'PUT'], path: '/api/v1/things/:id(^\\d+)/tree' },
        async handler() { return {}; },
      }),
      defineOperation({
        name: 'things.custom', summary: 'Own error body.', auth: 'none', uses: [], secondFactor: { kind: 'none' }, input: z.object({}),
        rest: {
          method: 'POST', path: '/api/v1/things.custom',
          errorReply: (e: TwofoldError) => (e.code === 'not-authorized' ? { status: 418, body: { oops: e.code, why: e.reason } } : undefined),
        },
        async handler() { return {}; },
      }),
      defineOperation({
        name: 'things:ddp', summary: 'DDP only.', auth: 'user', uses: [], secondFactor: { kind: 'always' }, input: z.tuple([z.string()]),
        ddp: { name: 'things:ddp' },
        async handler() { return {}; },
      }),
    );
    const doc = buildOpenApiDocument(registry, '9.9.9') as Doc;
    const resolved = await assertValidOpenApi(doc);
    assertWellFormed(doc, resolved);

    assert.deepEqual(Object.keys(doc.paths).filter((p) => p.includes('things')).sort(), ['/api/v1/things.custom', '/api/v1/things/{id}', '/api/v1/things/{id}/tree']);
    const get = resolved.paths['/api/v1/things/{id}'].get;
    assert.deepEqual(get.parameters.map((p: Doc) => `${p.in}:${p.name}:${p.required}`), ['path:id:true', 'query:at:false', 'query:n:false']);
    assert.deepEqual(get.security, [{ userId: [], authToken: [] }, {}]);
    const tree = doc.paths['/api/v1/things/{id}/tree'];
    assert.deepEqual([tree.post.operationId, tree.put.operationId], ['things.tree.post', 'things.tree.put']);
    assert.equal(tree.post['x-twofold-second-factor'], 'depends');
    assert.ok(tree.post.parameters.some((p: Doc) => p.$ref === '#/components/parameters/TwoFactorCode'));
    assert.ok(tree.post.responses['403'] && tree.post.responses['401']);
    // The recursive and shared parts of a zod schema become components the document can resolve.
    assert.equal(doc.components.schemas['things.tree.input.Shared_Thing_1'].type, 'object');
    const teapot = doc.paths['/api/v1/things.custom'].post.responses['418'].content['application/json'].schema;
    assert.deepEqual(teapot.properties, { oops: { type: 'string', enum: ['not-authorized'] }, why: { type: 'string' } });
    assert.equal(doc['x-twofold-ddp-only'][0]['x-ddp-method'], 'things:ddp');
    assert.equal(doc.info.version, '9.9.9');
  });
});

for (const store of storesUnderTest) {
  describe(`GET /api/openapi.json (${store})`, () => {
    let t: TestServer;
    let doc: Doc;
    let resolved: Doc;
    before(async () => {
      t = await startTestServer({ store, settings: { sendCodeUserPerHour: 3, loginFailuresPerUser: 2 } });
      await t.addUser({ username: 'alice', password: 'alice pw' });
      await t.addUser({ username: 'bob', password: 'bob pw', email2fa: true });
      await t.addUser({ username: 'carol', password: 'carol pw', email2fa: true });
      const res = await fetch(`${t.url}/api/openapi.json`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      doc = await res.json() as Doc;
    });
    after(() => t.close());

    it('is a valid OpenAPI 3.1 document, served without a login and the same on every request', async () => {
      resolved = await assertValidOpenApi(doc);
      assertWellFormed(doc, resolved);
      assert.equal(doc.openapi, '3.1.0');
      assert.deepEqual(doc.info.title, 'Twofold');
      assert.equal(doc.info.version, t.server.app.version);
      const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
      assert.equal(doc.info.version, pkg.version);
      const again = await rest(t.url, 'GET', '/api/openapi.json');
      assert.deepEqual(again.body, doc);
    });

    it('lists every REST binding of the registry with its DDP method and second-factor policy', () => {
      let bindings = 0;
      for (const op of t.server.registry.all()) {
        if (!op.rest) continue;
        const path = op.rest.path.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, '{$1}');
        for (const method of [op.rest.method].flat()) {
          const documented = doc.paths[path]?.[method.toLowerCase()];
          assert.ok(documented, `${method} ${path} (${op.name}) is missing`);
          assert.equal(documented['x-twofold-operation'], op.name);
          assert.equal(documented['x-ddp-method'], op.ddp?.name);
          assert.match(documented['x-twofold-second-factor'], /^(none|ask|always|code-argument|depends)$/);
          assert.equal(documented.summary, op.summary);
          bindings++;
        }
      }
      assert.ok(bindings >= 25, `${bindings} bindings`);
      const ddpOnly = doc['x-twofold-ddp-only'].map((o: Doc) => o['x-ddp-method']);
      assert.ok(ddpOnly.includes('callWithTwoFactorRequired'));
    });

    it('documents the login headers, the 2FA headers and the 400 totp-required body of a protected operation', () => {
      const disable = resolved.paths['/api/v1/users.2fa.disableEmail'].post;
      assert.deepEqual(disable.security, [{ userId: [], authToken: [] }]);
      assert.deepEqual(doc.components.securitySchemes.userId, { ...doc.components.securitySchemes.userId, type: 'apiKey', in: 'header', name: 'X-User-Id' });
      assert.deepEqual(doc.components.securitySchemes.authToken, { ...doc.components.securitySchemes.authToken, type: 'apiKey', in: 'header', name: 'X-Auth-Token' });
      assert.equal(disable['x-twofold-second-factor'], 'always');
      const header = (name: string) => disable.parameters.find((p: Doc) => p.in === 'header' && p.name === name);
      assert.ok(header('x-2fa-code'));
      assert.deepEqual(header('x-2fa-method').schema.enum, ['totp', 'email', 'password', 'webauthn']);
      const bodies = doc.paths['/api/v1/users.2fa.disableEmail'].post.responses['400'].content['application/json'].schema.anyOf;
      assert.ok(bodies.some((b: Doc) => b.$ref === '#/components/schemas/TwoFactorError'));
      const twoFactorError = doc.components.schemas.TwoFactorError;
      assert.deepEqual(twoFactorError.properties.errorType.enum, ['totp-required', 'totp-invalid', 'totp-max-attempts']);
      assert.deepEqual(resolved.components.schemas.TwoFactorError.properties.details.properties.codeExpires.items, { type: 'string', format: 'date-time' });

      // The authenticator's own calls take the code in their input and answer a wrong one with the same body.
      const totpDisable = doc.paths['/api/v1/users.totp.disable'].post;
      assert.equal(totpDisable['x-twofold-second-factor'], 'code-argument');
      assert.ok(totpDisable.responses['400'].content['application/json'].schema.anyOf.some((b: Doc) => b.$ref === '#/components/schemas/TwoFactorError'));
      // …and, for someone who lost the phone, an emailed code in the 2FA headers instead (issue 14 §1).
      assert.ok(totpDisable.parameters.some((p: Doc) => p.$ref === '#/components/parameters/TwoFactorCode'));
      assert.ok(totpDisable.parameters.some((p: Doc) => p.$ref === '#/components/parameters/TwoFactorMethod'));
      assert.ok(!doc.paths['/api/v1/users.totp.validate'].post.parameters.some((p: Doc) => p.$ref === '#/components/parameters/TwoFactorCode'));

      // An operation that never asks documents no 2FA headers; an anonymous one no login.
      const enable = resolved.paths['/api/v1/users.2fa.enableEmail'].post;
      assert.ok(!enable.parameters.some((p: Doc) => p.name === 'x-2fa-code'));
      assert.deepEqual(resolved.paths['/api/v1/users.register'].post.security, []);
      assert.deepEqual(resolved.paths['/api/v1/users.2fa.sendEmailCode'].post.security, [{ userId: [], authToken: [] }, {}]);

      const login = resolved.paths['/api/v1/login'].post;
      assert.ok(login.parameters.some((p: Doc) => p.name === 'x-2fa-code'));
      const loginInputs = JSON.stringify(login.requestBody.content['application/json'].schema);
      assert.match(loginInputs, /"code":/);
      assert.ok(login.responses['401'], 'login documents its 401');
      const send = resolved.paths['/api/v1/users.2fa.sendEmailCode'].post.responses['429'];
      assert.deepEqual(Object.keys(send.headers).sort(), ['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'].sort());
    });

    it('the bodies the server really sends match the documented ones (400 totp-required, login 401s, 429) with the documented headers', async () => {
      const check = schemaChecker(doc);
      const expectValid = (validate: ReturnType<typeof check.at>, body: unknown, what: string) =>
        assert.ok(validate(body), `${what}: ${JSON.stringify(body)} does not match: ${JSON.stringify(validate.errors)}`);

      // A protected call without a code.
      const alice = await restLogin(t.url, 'alice', 'alice pw');
      assert.equal((await rest(t.url, 'POST', '/api/v1/users.2fa.enableEmail', { auth: alice })).status, 200);
      const challenged = await rest(t.url, 'POST', '/api/v1/users.2fa.disableEmail', { auth: alice });
      assert.equal(challenged.status, 400);
      assert.equal(challenged.body.errorType, 'totp-required');
      expectValid(check.responseSchema('/api/v1/users.2fa.disableEmail', 'post', '400'), challenged.body, 'disableEmail 400');
      expectValid(check.at('components', 'schemas', 'TwoFactorError'), challenged.body, 'TwoFactorError');
      assert.ok(!check.at('components', 'schemas', 'Error')(challenged.body), 'a 2FA error is not documented as a common error');
      const wrong = await rest(t.url, 'POST', '/api/v1/users.2fa.disableEmail', { auth: alice, headers: { 'x-2fa-code': '000000', 'x-2fa-method': 'email' } });
      assert.equal(wrong.body.errorType, 'totp-invalid');
      expectValid(check.responseSchema('/api/v1/users.2fa.disableEmail', 'post', '400'), wrong.body, 'disableEmail 400 totp-invalid');

      const anonymous = await rest(t.url, 'POST', '/api/v1/users.2fa.disableEmail');
      assert.equal(anonymous.status, 401);
      expectValid(check.responseSchema('/api/v1/users.2fa.disableEmail', 'post', '401'), anonymous.body, 'disableEmail 401');
      const badInput = await rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: {} });
      assert.equal(badInput.status, 400);
      expectValid(check.responseSchema('/api/v1/users.2fa.sendEmailCode', 'post', '400'), badInput.body, 'sendEmailCode 400');

      // The login's own 401 bodies (spec §1).
      const login401 = check.responseSchema('/api/v1/login', 'post', '401');
      const needsCode = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'bob', password: 'bob pw' } });
      assert.equal(needsCode.status, 401);
      assert.equal(needsCode.body.error, 'totp-required');
      expectValid(login401, needsCode.body, 'login 401 totp-required');
      const badPassword = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'bob', password: 'nope' } });
      assert.equal(badPassword.status, 401);
      expectValid(login401, badPassword.body, 'login 401 bad password');
      let blocked: Awaited<ReturnType<typeof rest>> | undefined;
      for (let i = 0; i < 5 && !blocked; i++) {
        const r = await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'dave', password: 'guess' } });
        assert.equal(r.status, 401);
        if (r.body.error === 'error-login-blocked-for-user') blocked = r;
      }
      assert.ok(blocked, 'the login was blocked');
      expectValid(login401, blocked.body, 'login 401 blocked');
      for (const h of Object.keys(doc.paths['/api/v1/login'].post.responses['401'].headers)) {
        assert.match(blocked.headers.get(h) ?? '', /^\d+$/, `login 401 header ${h}`);
      }

      // Explicit sends are limited (3 an hour here): the fourth is 429 with the documented headers.
      let limited: Awaited<ReturnType<typeof rest>> | undefined;
      for (let i = 0; i < 4 && !limited; i++) {
        const r = await rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: 'carol' } });
        if (r.status === 429) limited = r;
      }
      assert.ok(limited, 'the send limit was reached');
      expectValid(check.responseSchema('/api/v1/users.2fa.sendEmailCode', 'post', '429'), limited.body, 'sendEmailCode 429');
      for (const h of Object.keys(doc.paths['/api/v1/users.2fa.sendEmailCode'].post.responses['429'].headers)) {
        assert.match(limited.headers.get(h) ?? '', /^\d+$/, `header ${h}`);
      }
    });

    it('documents DDP over REST (method.call, method.callAnon, the 2FA error inside `message`) and /sockjs/info, as the server answers them', async () => {
      const check = schemaChecker(doc);
      const expectValid = (validate: ReturnType<typeof check.at>, body: unknown, what: string) =>
        assert.ok(validate(body), `${what}: ${JSON.stringify(body)} does not match: ${JSON.stringify(validate.errors)}`);
      for (const path of ['/api/v1/method.call/{method}', '/api/v1/method.callAnon/{method}']) {
        assert.ok(doc.paths[path]?.post, `${path} is documented`);
        assert.equal(resolved.paths[path].post.requestBody.content['application/json'].schema.properties.message.contentSchema.properties.msg.const, 'method');
      }
      assert.deepEqual(doc.paths['/api/v1/method.call/{method}'].post.security, [{ userId: [], authToken: [] }]);
      assert.deepEqual(doc.paths['/api/v1/method.callAnon/{method}'].post.security, []);
      const call = (anonymous: boolean, method: string, params: unknown[], auth?: { userId: string; authToken: string }) =>
        rest(t.url, 'POST', `/api/v1/${anonymous ? 'method.callAnon' : 'method.call'}/${method}`, {
          auth, body: { message: JSON.stringify({ msg: 'method', id: '1', method, params }) },
        });
      const result = check.at('components', 'schemas', 'DdpResultMessage');
      const twoFactorError = check.at('components', 'schemas', 'MeteorTwoFactorError');

      // A user without a second factor confirms with the password fallback (spec §3.1).
      await t.addUser({ username: 'erin', password: 'erin pw' });
      const anonLogin = await call(true, 'login', [{ user: { username: 'erin' }, password: { digest: sha256('erin pw'), algorithm: 'sha-256' } }]);
      assert.equal(anonLogin.status, 200);
      expectValid(check.responseSchema('/api/v1/method.callAnon/{method}', 'post', '200'), anonLogin.body, 'method.callAnon 200');
      const loggedIn = JSON.parse(anonLogin.body.message);
      expectValid(result, loggedIn, 'method.callAnon login result');
      const erin = { userId: loggedIn.result.id as string, authToken: loggedIn.result.token as string };

      const asked = await call(false, 'personalAccessTokens:generateToken', [{ tokenName: 'doc' }], erin);
      assert.equal(asked.status, 200);
      expectValid(check.responseSchema('/api/v1/method.call/{method}', 'post', '200'), asked.body, 'method.call 200 (challenge)');
      const challenge = JSON.parse(asked.body.message);
      expectValid(result, challenge, 'method.call challenge');
      assert.equal(challenge.error.error, 'totp-required');
      expectValid(twoFactorError, challenge.error, 'the 2FA error inside message');

      const answered = await call(false, 'personalAccessTokens:generateToken', [{ tokenName: 'doc' }, { twoFactorCode: sha256('erin pw'), twoFactorMethod: 'password' }], erin);
      const done = JSON.parse(answered.body.message);
      expectValid(result, done, 'method.call result');
      assert.equal(typeof done.result, 'string', 'the new token');

      const noLogin = await call(false, 'personalAccessTokens:generateToken', [{ tokenName: 'x' }]);
      assert.equal(noLogin.status, 401);
      expectValid(check.responseSchema('/api/v1/method.call/{method}', 'post', '401'), noLogin.body, 'method.call 401');
      const badEnvelope = await rest(t.url, 'POST', '/api/v1/method.callAnon/login', { body: { message: '{"msg":"sub"}' } });
      assert.equal(badEnvelope.status, 400);
      expectValid(check.responseSchema('/api/v1/method.callAnon/{method}', 'post', '400'), badEnvelope.body, 'method.callAnon 400');

      const info = await rest(t.url, 'GET', '/sockjs/info');
      assert.equal(info.status, 200);
      expectValid(check.responseSchema('/sockjs/info', 'get', '200'), info.body, 'sockjs/info');
    });
  });
}
