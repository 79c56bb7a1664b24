// GET /api/openapi.json: an OpenAPI 3.1 document built from the operation registry, so it
// cannot drift from what the server does. Inputs come from each operation's zod schema
// (zod 4 emits JSON Schema 2020-12, OpenAPI 3.1's dialect); login rule, second-factor
// policy and error bodies come from the operation's declaration and the error catalogue.
// Nothing here names an operation except the one fact the registry does not carry (which
// operations mail something on request), so operations added later are documented as they are.

import { z } from 'zod';
import { errorCatalogue, TwofoldError, type ErrorCode } from '../../core/errors.ts';
import { METHOD_NAMES } from '../../core/twofactor/types.ts';
import { MAX_WEBAUTHN_ANSWER_LENGTH } from '../../core/twofactor/methods/webauthn.ts';
import { callWithTwoFactorEnvelope as envelope } from '../../operations/call-with-two-factor.ts';
import type { HttpMethod, Operation, Registry } from '../../operations/registry.ts';

type Json = Record<string, unknown>;

const TWO_FACTOR_CODES: readonly ErrorCode[] = ['totp-required', 'totp-invalid', 'totp-max-attempts'];
/** Errors that carry rate-limit headers on REST (src/core/twofactor/limits.ts). */
const RATE_LIMITED_CODES: ReadonlySet<string> = new Set(['error-too-many-requests', 'error-login-blocked-for-ip', 'error-login-blocked-for-user']);
/**
 * Operations that mail something on request (a code, a sign-up's or a new address's
 * verification link), whose sends are limited per user, address or inbox. Every operation
 * that may ask for a second factor can mail a code too (an email challenge); those are
 * found from their policy.
 */
const SENDS_MAIL_ON_REQUEST: ReadonlySet<string> = new Set(['users.2fa.sendEmailCode', 'users.register', 'users.sendConfirmationEmail']);
/** server.ts refuses a longer header value with error-invalid-header. */
const MAX_HEADER_VALUE = 256;

const ref = (kind: 'schemas' | 'parameters' | 'headers' | 'responses', name: string) => ({ $ref: `#/components/${kind}/${name}` });
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Component names must match ^[a-zA-Z0-9.\-_]+$. */
const componentName = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

export type DocumentedPolicy = 'none' | 'ask' | 'always' | 'code-argument' | 'depends';

/** The operation's second-factor rule as documented; a rule chosen per call (settings, input) is `depends` and may ask. */
export function documentedPolicy(op: Operation): DocumentedPolicy {
  // The login asks after the password whenever the user has a method, with its own error body.
  if (op.secondFactor.kind === 'login') return 'always';
  if (op.secondFactor.kind === 'none' && customErrorBodies(op).some((g) => g.twoFactor)) return 'always';
  return op.secondFactor.kind;
}

const mayAskByPolicy = (op: Operation) => ['ask', 'always', 'depends'].includes(op.secondFactor.kind);

// ---------------------------------------------------------------------------------------
// Input schemas

const VERBATIM_KEYS = new Set(['const', 'enum', 'default', 'examples', 'example']);

/**
 * The input as JSON Schema. Transforms and preprocessing cannot be represented: the input
 * side is documented and anything else becomes `{}` (any value). `undefined` in a union
 * means "no body", which the requestBody's `required: false` already says, so it becomes
 * "nothing" rather than "anything".
 */
export function inputJsonSchema(schema: z.ZodType): Json {
  try {
    return z.toJSONSchema(schema, {
      io: 'input',
      unrepresentable: 'any',
      override: (ctx) => {
        const type = (ctx.zodSchema as { _zod: { def: { type: string } } })._zod.def.type;
        if (type === 'undefined' || type === 'void') {
          for (const k of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Json)[k];
          (ctx.jsonSchema as Json).not = {};
        }
      },
    }) as Json;
  } catch {
    return { description: 'This input cannot be expressed as JSON Schema; see the operation in src/operations/.' };
  }
}

/**
 * Moves an input schema into components/schemas under `base`, with its `$defs` beside it,
 * rewriting the document-relative `$ref`s zod emits (`#`, `#/$defs/x`) so they resolve
 * inside the OpenAPI document.
 */
function addInputComponent(schemas: Record<string, Json>, base: string, json: Json): Json {
  const { $schema: _schema, $id: _id, $defs, ...root } = json;
  const target = (r: string) => {
    if (r === '#') return `#/components/schemas/${base}`;
    if (r.startsWith('#/$defs/')) return `#/components/schemas/${base}.${componentName(decodeURIComponent(r.slice(8)).replace(/~1/g, '/').replace(/~0/g, '~'))}`;
    return r;
  };
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (!isObject(v)) return v;
    const out: Json = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = k === '$ref' && typeof x === 'string' ? target(x) : VERBATIM_KEYS.has(k) ? x : rewrite(x);
    }
    return out;
  };
  for (const [name, def] of Object.entries(isObject($defs) ? $defs : {})) {
    schemas[`${base}.${componentName(name)}`] = rewrite(def) as Json;
  }
  const out = rewrite(root) as Json;
  schemas[base] = out;
  return out;
}

/** The object branches of a schema (a plain object, or the objects of an anyOf/oneOf), refs followed. */
function objectBranches(schema: Json, schemas: Record<string, Json>, depth = 0): Json[] {
  if (depth > 8) return [];
  if (typeof schema.$ref === 'string' && schema.$ref.startsWith('#/components/schemas/')) {
    const target = schemas[schema.$ref.slice('#/components/schemas/'.length)];
    return target ? objectBranches(target, schemas, depth + 1) : [];
  }
  if (isObject(schema.properties)) return [schema];
  const alternatives = [schema.anyOf, schema.oneOf].find(Array.isArray) as unknown[] | undefined;
  return alternatives ? alternatives.filter(isObject).flatMap((b) => objectBranches(b, schemas, depth + 1)) : [];
}

/** Query parameters of a GET: the input's properties; required only where every branch requires it. */
function queryParameters(schema: Json, schemas: Record<string, Json>, skip: ReadonlySet<string>): Json[] {
  const branches = objectBranches(schema, schemas);
  const names = new Map<string, Json>();
  for (const b of branches) {
    for (const [name, s] of Object.entries(b.properties as Json)) if (!names.has(name) && !skip.has(name)) names.set(name, s as Json);
  }
  return [...names].map(([name, s]) => {
    const required = branches.length > 0 && branches.every((b) => Array.isArray(b.required) && b.required.includes(name));
    const param: Json = { name, in: 'query', required, schema: s };
    if (typeof s.description === 'string') param.description = s.description;
    return param;
  });
}

/** Whether the operation runs with no body at all (then the requestBody is optional). */
function acceptsNoBody(op: Operation): boolean {
  try {
    const raw = op.rest?.input ? op.rest.input({ body: undefined, query: {}, headers: {} }) : undefined;
    return op.input.safeParse(raw).success;
  } catch {
    return false;
  }
}

/** Whether a custom REST mapping passes the documented field names through unchanged (checked with marker values). */
function keepsNames(op: Operation, names: string[]): boolean {
  if (names.length === 0) return false;
  const probe = Object.fromEntries(names.map((n) => [n, `\u0000probe:${n}`]));
  try {
    const out = op.rest!.input!({ body: { ...probe }, query: { ...probe }, headers: {} });
    return isObject(out) && names.every((n) => out[n] === probe[n]);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------
// Error bodies

/** Sample details so a custom error mapping shows where it puts them. */
const SAMPLE_2FA_DETAILS = {
  method: 'email', codeGenerated: true, codeCount: 1, codeExpires: ['2026-01-01T00:00:00.000Z'],
  availableMethods: ['email'], emailOrUsername: 'alice',
};

interface CustomErrorGroup {
  status: number;
  codes: string[];
  twoFactor: boolean;
  rateLimited: boolean;
  schema: Json;
}

/**
 * The bodies an operation's own error mapping (`rest.errorReply`) gives, found by asking it
 * about every code of the catalogue and describing the answers: a field that carries the
 * code is an enum of the codes, a field that carries the reason is a string, a field equal
 * in every answer is that constant.
 */
function customErrorBodies(op: Operation): CustomErrorGroup[] {
  const mapping = op.rest?.errorReply;
  if (!mapping) return [];
  const groups = new Map<string, { status: number; twoFactor: boolean; samples: { e: TwofoldError; body: unknown }[] }>();
  for (const code of Object.keys(errorCatalogue) as ErrorCode[]) {
    const twoFactor = TWO_FACTOR_CODES.includes(code);
    const e = new TwofoldError(code, twoFactor ? SAMPLE_2FA_DETAILS : {});
    let out: { status: number; body: unknown } | undefined;
    try { out = mapping(e); } catch { continue; }
    if (!out) continue;
    const body = isObject(out.body) ? JSON.parse(JSON.stringify(out.body)) as Json : out.body;
    const keys = isObject(body) ? Object.keys(body).sort().join(',') : typeof body;
    const key = `${out.status}|${twoFactor}|${keys}`;
    const g = groups.get(key) ?? { status: out.status, twoFactor, samples: [] };
    g.samples.push({ e, body });
    groups.set(key, g);
  }
  return [...groups.values()].map(({ status, twoFactor, samples }) => ({
    status, twoFactor,
    codes: samples.map((s) => s.e.code),
    rateLimited: samples.some((s) => RATE_LIMITED_CODES.has(s.e.code)),
    schema: describeBodies(samples, twoFactor),
  }));
}

function describeBodies(samples: { e: TwofoldError; body: unknown }[], twoFactor: boolean): Json {
  const first = samples[0]!.body;
  if (!isObject(first)) return {};
  const properties: Json = {};
  for (const key of Object.keys(first)) {
    const values = samples.map((s) => (s.body as Json)[key]);
    if (key === 'details' && values.every(isObject)) {
      properties[key] = twoFactor ? ref('schemas', 'TwoFactorDetails') : { type: 'object' };
    } else if (samples.every((s, i) => values[i] === s.e.code)) {
      properties[key] = { type: 'string', enum: samples.map((s) => s.e.code) };
    } else if (samples.some((s, i) => values[i] === s.e.reason || values[i] === s.e.message)) {
      properties[key] = { type: 'string' };
    } else if (values.every((v) => v === values[0]) && (typeof values[0] !== 'object' || values[0] === null)) {
      properties[key] = { const: values[0] };
    } else {
      const t = Array.isArray(values[0]) ? 'array' : values[0] === null ? 'null' : typeof values[0];
      properties[key] = ['string', 'number', 'boolean', 'object', 'array', 'null'].includes(t) ? { type: t } : {};
    }
  }
  // The sample details given to non-2FA errors are ours, so the answer need not have them.
  const required = Object.keys(first).filter((k) => twoFactor || k !== 'details');
  return { type: 'object', properties, required };
}

// ---------------------------------------------------------------------------------------
// Components

function components(): Json {
  const twoFactorCodes = [...TWO_FACTOR_CODES];
  const otherCodes = (Object.keys(errorCatalogue) as ErrorCode[]).filter((c) => !TWO_FACTOR_CODES.includes(c));
  const rateHeader = (description: string) => ({ description, schema: { type: 'integer' } });
  return {
    securitySchemes: {
      userId: { type: 'apiKey', in: 'header', name: 'X-User-Id', description: 'The `userId` a login returned. Sent together with X-Auth-Token.' },
      authToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'The `authToken` a login returned (or a personal access token). Sent together with X-User-Id.' },
    },
    parameters: {
      TwoFactorCode: {
        name: 'x-2fa-code', in: 'header', required: false,
        description: `The second factor: a TOTP or backup code, an email code (\`123-456\` or \`123456\`), the SHA-256 hex of the password for the password fallback, or a passkey's assertion (AuthenticationResponseJSON as JSON text, with method \`webauthn\`; up to ${MAX_WEBAUTHN_ANSWER_LENGTH} characters, other methods ${MAX_HEADER_VALUE}). Omit it to be told which method to use (400 totp-required).`,
        schema: { type: 'string', maxLength: MAX_WEBAUTHN_ANSWER_LENGTH },
      },
      TwoFactorMethod: {
        name: 'x-2fa-method', in: 'header', required: false,
        description: 'Which method the code is for; without it the server picks the first enabled method.',
        schema: { type: 'string', enum: [...METHOD_NAMES] },
      },
    },
    headers: {
      'X-RateLimit-Limit': rateHeader('Requests allowed in the window.'),
      'X-RateLimit-Remaining': rateHeader('Requests left in the window.'),
      'X-RateLimit-Reset': rateHeader('When the window resets, in milliseconds since the epoch (as Rocket.Chat).'),
      'Retry-After': rateHeader('Seconds to wait before trying again.'),
    },
    schemas: {
      Error: {
        type: 'object',
        description: 'Every REST error (Rocket.Chat\'s failure shape); `errorType` is a stable code of the error catalogue.',
        properties: {
          success: { const: false },
          error: { type: 'string', description: '`<reason> [<code>]`', examples: ['Not authorized [not-authorized]'] },
          errorType: { type: 'string', enum: otherCodes },
          details: { type: 'object' },
        },
        required: ['success', 'error', 'errorType'],
      },
      TwoFactorError: {
        type: 'object',
        description: 'A second factor is needed, wrong, or tried too often (spec §3.3). Retry with x-2fa-code and x-2fa-method.',
        properties: {
          success: { const: false },
          error: { type: 'string', pattern: `^.* \\[(${twoFactorCodes.join('|')})\\]$`, examples: ['TOTP Required [totp-required]'] },
          errorType: { type: 'string', enum: twoFactorCodes },
          details: ref('schemas', 'TwoFactorDetails'),
        },
        required: ['success', 'error', 'errorType', 'details'],
      },
      TwoFactorDetails: {
        type: 'object',
        description: 'Which method to use and, for email, the live codes (spec §3.3).',
        properties: {
          method: { type: 'string', enum: [...METHOD_NAMES] },
          codeGenerated: { type: 'boolean', description: 'Whether this answer mailed a new code.' },
          codeCount: { type: 'integer', minimum: 0, description: 'Live email codes (email only).' },
          codeExpires: { type: 'array', items: { type: 'string', format: 'date-time' }, description: 'Expiry of each live email code, oldest first (email only).' },
          availableMethods: { type: 'array', items: { type: 'string', enum: ['totp', 'email', 'webauthn'] } },
          webauthn: { type: 'object', description: 'When `webauthn` is available: the PublicKeyCredentialRequestOptionsJSON for `navigator.credentials.get`; answer with the assertion JSON as the code and method `webauthn` (Twofold\'s own key).' },
          emailOrUsername: { type: 'string', description: 'The user the code was mailed to (email only).' },
          destinations: { type: 'array', items: { type: 'string' }, description: 'The verified addresses the email codes go to, masked as `a•••e@example.com` (email only; Twofold\'s own key).' },
          reason: { type: 'string', enum: ['wrong', 'expired', 'used'], description: 'Why the code was refused (`totp-invalid` only; Twofold\'s own key).' },
          attemptsLeft: { type: 'integer', minimum: 0, description: 'Wrong codes left before `totp-max-attempts` (`totp-invalid` only; Twofold\'s own key).' },
          retryAfter: { type: 'integer', minimum: 0, description: 'Seconds until the lockout ends (`totp-max-attempts`, and `totp-invalid` with no attempts left; Twofold\'s own key).' },
        },
        required: ['method', 'codeGenerated', 'availableMethods'],
      },
    },
  };
}

// ---------------------------------------------------------------------------------------
// Operations

const jsonContent = (schema: Json) => ({ 'application/json': { schema } });
const oneSchema = (list: Json[]): Json => (list.length === 1 ? list[0]! : { anyOf: list });
const rateLimitHeaders = () => Object.fromEntries(['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'].map((h) => [h, ref('headers', h)]));

interface ResponseParts { bodies: Json[]; notes: string[]; rateLimited: boolean }

function responsesOf(op: Operation): Json {
  const byStatus = new Map<string, ResponseParts>();
  const add = (status: number | string, body: Json, note: string, rateLimited = false) => {
    const r = byStatus.get(String(status)) ?? { bodies: [], notes: [], rateLimited: false };
    if (!r.bodies.some((b) => JSON.stringify(b) === JSON.stringify(body))) r.bodies.push(body);
    r.notes.push(note);
    r.rateLimited ||= rateLimited;
    byStatus.set(String(status), r);
  };
  const custom = customErrorBodies(op);
  const mapped = new Set(custom.flatMap((g) => g.codes));
  const errorBody = ref('schemas', 'Error');

  add(400, errorBody, 'Bad input: `error-parameter-required`, `error-invalid-params`, `error-invalid-json`, or an error of the operation.');
  if (mayAskByPolicy(op) && !TWO_FACTOR_CODES.some((c) => mapped.has(c))) {
    add(400, ref('schemas', 'TwoFactorError'), 'Second factor needed or wrong: `totp-required`, `totp-invalid`, `totp-max-attempts`; retry with x-2fa-code and x-2fa-method.');
  }
  // The code in the input is checked by the same engine, which answers with the same errors.
  if (op.secondFactor.kind === 'code-argument') add(400, ref('schemas', 'TwoFactorError'), 'The code in the input is wrong or tried too often: `totp-invalid`, `totp-max-attempts`.');
  if (op.auth === 'user' || op.auth === 'admin') add(401, errorBody, `Not logged in: \`${op.authError ?? 'not-authorized'}\`.`);
  if (op.auth === 'admin') add(403, errorBody, 'Not an admin: `error-not-allowed`.');
  const mailsByEmail = op.secondFactor.kind === 'code-argument' && op.secondFactor.byEmail === true;
  if (mayAskByPolicy(op) || SENDS_MAIL_ON_REQUEST.has(op.name) || custom.some((g) => g.twoFactor) || mailsByEmail) {
    add(429, errorBody, 'Too many mails asked for (codes, links): `error-too-many-requests`, `details.timeToReset` in seconds.', true);
  }
  for (const g of custom) add(g.status, g.schema, `${g.codes.map((c) => `\`${c}\``).join(', ')}: this endpoint's own body.`, g.rateLimited);

  const out: Json = {
    200: { description: 'Success.', content: jsonContent({ type: 'object' }) },
  };
  for (const [status, r] of [...byStatus].sort(([a], [b]) => a.localeCompare(b))) {
    const response: Json = { description: r.notes.join(' '), content: jsonContent(oneSchema(r.bodies)) };
    if (r.rateLimited) response.headers = rateLimitHeaders();
    out[status] = response;
  }
  out.default = { description: 'Any other error of the catalogue (404, 500, 503…), in the common shape.', content: jsonContent(errorBody) };
  return out;
}

function securityOf(op: Operation): Json[] {
  const both = { userId: [], authToken: [] };
  if (op.auth === 'user' || op.auth === 'admin') return [both];
  if (op.auth === 'optional') return [both, {}];
  return [];
}

const PATH_PARAM = /:([A-Za-z0-9_]+)(\([^)]*\))?/g;

function operationObject(op: Operation, method: HttpMethod, operationId: string, inputRef: Json, inputSchema: Json, schemas: Record<string, Json>): Json {
  const binding = op.rest!;
  const policy = documentedPolicy(op);
  const byEmail = op.secondFactor.kind === 'code-argument' && op.secondFactor.byEmail === true;
  const asks = mayAskByPolicy(op) || customErrorBodies(op).some((g) => g.twoFactor) || byEmail;
  const pathParams = [...binding.path.matchAll(PATH_PARAM)].map((m) => m[1]!);
  const properties = Object.assign({}, ...objectBranches(inputSchema, schemas).map((b) => b.properties as Json)) as Json;

  const parameters: Json[] = pathParams.map((name) => ({ name, in: 'path', required: true, schema: (properties[name] as Json | undefined) ?? { type: 'string' } }));
  if (method === 'GET') parameters.push(...queryParameters(inputSchema, schemas, new Set(pathParams)));
  if (asks) parameters.push(ref('parameters', 'TwoFactorCode'), ref('parameters', 'TwoFactorMethod'));

  const notes: string[] = [];
  if (policy === 'ask') notes.push('Asks for a second factor; a success remembered for this login and client passes.');
  if (policy === 'always') notes.push('Asks for a second factor every time (when the user has a method), even after a remembered success.');
  if (policy === 'depends') notes.push('May ask for a second factor, depending on the settings or the input (see the summary).');
  if (policy === 'code-argument') notes.push('The authenticator code is part of the input and is checked every time.');
  if (byEmail) notes.push('Lost the phone: with `x-2fa-method: email` an emailed code in `x-2fa-code` stands in for `code` (when the user has email codes on); without `x-2fa-code` one is mailed (`totp-required`, method email).');
  if (binding.input) {
    notes.push('The REST binding maps the raw request (Rocket.Chat\'s field names, query strings) onto the input documented here before checking it'
      + (keepsNames(op, Object.keys(properties)) ? '; the names documented here are also accepted as they are.' : '.'));
  }

  const operation: Json = {
    operationId,
    summary: op.summary,
    tags: [op.name.split('.')[0]],
    security: securityOf(op),
    parameters,
  };
  if (notes.length) operation.description = notes.join(' ');
  if (method !== 'GET') operation.requestBody = { required: !acceptsNoBody(op), content: jsonContent(inputRef) };
  operation.responses = responsesOf(op);
  operation['x-twofold-operation'] = op.name;
  operation['x-twofold-auth'] = op.auth;
  operation['x-twofold-second-factor'] = policy;
  if (binding.input) operation['x-twofold-rest-input'] = 'mapped';
  if (op.ddp) operation['x-ddp-method'] = op.ddp.name;
  return operation;
}

// ---------------------------------------------------------------------------------------
// Routes that are no operation: DDP over REST (method-call.ts) and SockJS's info (sockjs-info.ts)

/** Schemas of the DDP messages `method.call` carries as EJSON text, and of Meteor's error inside a result. */
function ddpSchemas(): Record<string, Json> {
  const meteorError = (code: Json, details: Json): Json => ({
    type: 'object',
    properties: {
      isClientSafe: { const: true },
      error: code,
      reason: { type: 'string' },
      details,
      message: { type: 'string', description: '`<reason> [<error>]`' },
      errorType: { const: 'Meteor.Error' },
    },
    required: ['isClientSafe', 'error', 'message', 'errorType'],
  });
  return {
    DdpMethodMessage: {
      type: 'object',
      description: 'A DDP `method` message. A protected method takes its second factor as a trailing `{twoFactorCode, twoFactorMethod}` parameter, or is called through `callWithTwoFactorRequired`.',
      properties: {
        msg: { const: 'method' },
        id: { type: 'string', minLength: 1, maxLength: 128 },
        method: { type: 'string', minLength: 1, maxLength: 128 },
        params: { type: 'array' },
      },
      required: ['msg', 'id', 'method'],
    },
    MeteorError: meteorError({ type: ['string', 'number'] }, { type: 'object' }),
    MeteorTwoFactorError: {
      ...meteorError({ type: 'string', enum: [...TWO_FACTOR_CODES] }, ref('schemas', 'TwoFactorDetails')),
      description: 'A second factor is needed, wrong, or tried too often (spec §3.3): call again with a trailing `{twoFactorCode, twoFactorMethod}` parameter.',
      required: ['isClientSafe', 'error', 'reason', 'details', 'message', 'errorType'],
    },
    DdpResultMessage: {
      type: 'object',
      description: 'The DDP `result` message of the call: `result` on success (absent when the method returns nothing), `error` otherwise.',
      properties: {
        msg: { const: 'result' },
        id: { type: 'string' },
        result: {},
        error: { anyOf: [ref('schemas', 'MeteorTwoFactorError'), ref('schemas', 'MeteorError')] },
      },
      required: ['msg', 'id'],
    },
    SockjsInfo: {
      type: 'object',
      description: 'SockJS\'s server information: only the WebSocket transport is offered.',
      properties: {
        websocket: { const: true },
        origins: { type: 'array', items: { type: 'string' } },
        cookie_needed: { const: false },
        entropy: { type: 'integer', minimum: 0 },
      },
      required: ['websocket', 'origins', 'cookie_needed', 'entropy'],
    },
  };
}

function methodCallPath(anonymous: boolean): Json {
  const name = anonymous ? 'method.callAnon' : 'method.call';
  const errorBody = ref('schemas', 'Error');
  const responses: Json = {
    200: {
      description: 'The call ran (whatever its outcome): `message` is the EJSON text of its DDP `result` message. A method\'s errors, the second factor\'s `totp-required` / `totp-invalid` / `totp-max-attempts` among them, are inside `message` as on the socket, with HTTP 200.',
      content: jsonContent({
        type: 'object',
        properties: {
          message: { type: 'string', contentMediaType: 'application/json', contentSchema: ref('schemas', 'DdpResultMessage') },
          success: { const: true },
        },
        required: ['message', 'success'],
      }),
    },
    400: { description: 'The envelope is wrong: `error-parameter-required` (no `message`), `error-invalid-params` (not a method message, or the path names another method), `error-invalid-json`, `error-body-too-large` (longer than a DDP frame may be).', content: jsonContent(errorBody) },
  };
  if (!anonymous) responses[401] = { description: 'Not logged in: `unauthorized`.', content: jsonContent(errorBody) };
  responses.default = { description: 'Any other error of the catalogue, in the common shape.', content: jsonContent(errorBody) };
  return {
    post: {
      operationId: name,
      summary: anonymous
        ? 'DDP over REST without a login (Rocket.Chat\'s clients, e.g. for `login`): one DDP method call, run as nobody even when login headers are sent.'
        : 'DDP over REST with a login (Rocket.Chat\'s web and mobile clients): one DDP method call as the logged-in user.',
      tags: ['ddp'],
      security: anonymous ? [] : [{ userId: [], authToken: [] }],
      parameters: [{
        name: 'method', in: 'path', required: true,
        description: 'The method the message calls (Rocket.Chat\'s clients write `/` in a method name as `:`).',
        schema: { type: 'string', minLength: 1, maxLength: 128 },
      }],
      requestBody: {
        required: true,
        content: jsonContent({
          type: 'object',
          properties: {
            message: { type: 'string', contentMediaType: 'application/json', contentSchema: ref('schemas', 'DdpMethodMessage'), description: 'The EJSON text of one DDP `method` message; no longer than a DDP frame (`TWOFOLD_MAX_FRAME_BYTES`).' },
          },
          required: ['message'],
        }),
      },
      responses,
      'x-twofold-second-factor': 'depends',
    },
  };
}

function sockjsInfoPath(): Json {
  return {
    get: {
      operationId: 'sockjs.info', summary: 'SockJS clients (Meteor\'s browser client) ask this before opening `/sockjs/<server>/<session>/websocket` (no login).',
      tags: ['ddp'], security: [],
      responses: { 200: { description: 'WebSocket only; `entropy` is a random number for clients without a good source of their own.', content: jsonContent(ref('schemas', 'SockjsInfo')) } },
    },
  };
}

/** The OpenAPI 3.1 document of every REST binding in the registry (and, as an extension, the DDP-only methods). */
export function buildOpenApiDocument(registry: Registry, version: string): Json {
  const comps = components();
  const schemas = comps.schemas as Record<string, Json>;
  Object.assign(schemas, ddpSchemas());
  const paths: Record<string, Json> = {
    '/api/info': {
      get: {
        operationId: 'info', summary: 'Server version and the email code lifetime (no login).', tags: ['info'], security: [],
        responses: { 200: { description: 'The version, `emailCodeTtl`: the lifetime of an emailed code in seconds, and `rememberDeviceDays`: how long "remember this device" lasts (0: not offered).', content: jsonContent({ type: 'object', properties: { version: { type: 'string' }, emailCodeTtl: { type: 'integer', minimum: 1 }, rememberDeviceDays: { type: 'integer', minimum: 0 }, success: { const: true } }, required: ['version', 'emailCodeTtl', 'success'] }) } },
      },
    },
    '/api/openapi.json': {
      get: {
        operationId: 'openapi', summary: 'This document (no login).', tags: ['info'], security: [],
        responses: { 200: { description: 'The OpenAPI document.', content: jsonContent({ type: 'object' }) } },
      },
    },
  };
  const ddpOnly: Json[] = [];
  // Hand-written routes, not operations of the registry.
  paths['/api/v1/method.call/{method}'] = methodCallPath(false);
  paths['/api/v1/method.callAnon/{method}'] = methodCallPath(true);
  paths['/sockjs/info'] = sockjsInfoPath();

  for (const op of registry.all()) {
    const base = `${componentName(op.name)}.input`;
    const inputSchema = addInputComponent(schemas, base, inputJsonSchema(op.input));
    const inputRef = ref('schemas', base);
    if (!op.rest) {
      if (op.ddp) {
        ddpOnly.push({
          operation: op.name, summary: op.summary, 'x-ddp-method': op.ddp.name, auth: op.auth,
          'x-twofold-second-factor': documentedPolicy(op), input: inputRef,
        });
      }
      continue;
    }
    const methods = [op.rest.method].flat();
    const path = op.rest.path.replace(PATH_PARAM, '{$1}');
    const item = (paths[path] ??= {});
    for (const method of methods) {
      const operationId = methods.length === 1 ? op.name : `${op.name}.${method.toLowerCase()}`;
      item[method.toLowerCase()] = operationObject(op, method, operationId, inputRef, inputSchema, schemas);
    }
  }

  // callWithTwoFactorRequired is an envelope the DDP transport unwraps, not an operation.
  const envelopeBase = `${componentName(envelope.ddpName)}.input`;
  addInputComponent(schemas, envelopeBase, inputJsonSchema(envelope.input));
  ddpOnly.push({
    operation: envelope.ddpName, summary: envelope.summary, 'x-ddp-method': envelope.ddpName, auth: envelope.auth,
    'x-twofold-second-factor': 'always', input: ref('schemas', envelopeBase),
  });

  return {
    openapi: '3.1.0',
    info: {
      title: 'Twofold',
      version,
      description: 'Two-factor authentication server speaking Rocket.Chat\'s 2FA protocol over REST and DDP. Generated from the operation registry; `x-ddp-method` names the DDP method bound to the same operation, `x-twofold-second-factor` its policy (none, ask, always, code-argument, depends).',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    paths,
    components: comps,
    'x-twofold-ddp-only': ddpOnly,
  };
}

