import type { Socket } from 'node:net';
import { API_PATHS, type InfoReply } from '../../contract/api.ts';
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { App } from '../../app.ts';
import { errors, TwofoldError } from '../../core/errors.ts';
import { restErrorBody } from './errors.ts';
import { parseAnswer } from '../../core/twofactor/answer.ts';
import { MAX_WEBAUTHN_ANSWER_LENGTH } from '../../core/twofactor/methods/webauthn.ts';
import { invoke } from '../../operations/invoke.ts';
import type { Operation, OperationContext, Registry } from '../../operations/registry.ts';
import { registerMethodCall } from './method-call.ts';
import { header, identify } from './request.ts';
import { registerSockjsInfo } from './sockjs-info.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { registerWebApp } from './web.ts';

/** Rocket.Chat's rate-limit headers (reset as epoch ms), plus the standard Retry-After in seconds. */
function setRateLimitHeaders(reply: FastifyReply, r: NonNullable<TwofoldError['rateLimit']>): void {
  reply.header('X-RateLimit-Limit', String(r.limit));
  reply.header('X-RateLimit-Remaining', String(r.remaining));
  reply.header('X-RateLimit-Reset', String(r.resetAt));
  reply.header('Retry-After', String(r.retryAfter));
}

function defaultReply(result: unknown): { status?: number; body: unknown } {
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) return { body: { ...result, success: true } };
  return { body: result === undefined ? { success: true } : { result, success: true } };
}

/** Fastify's own failures (body too large, bad JSON…) as catalogue errors. */
function asTwofoldError(e: unknown): TwofoldError | null {
  if (e instanceof TwofoldError) return e;
  const code = (e as { code?: string }).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return errors.bodyTooLarge();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return errors.unsupportedMediaType();
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return errors.invalidHeader({ header: 'content-length' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return errors.invalidJson();
  }
  const status = (e as { statusCode?: number }).statusCode;
  if (status && status >= 400 && status < 500) return errors.invalidParams(undefined, (e as Error).message.slice(0, 200));
  return null;
}

/**
 * A request Node's HTTP parser rejects (bad header characters, CR/LF injection, conflicting
 * lengths, oversized headers) never reaches a route: it still gets a catalogue error.
 */
function answerUnparsableRequest(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable && err.code !== 'ERR_HTTP_REQUEST_TIMEOUT') {
    const e = err.code === 'HPE_HEADER_OVERFLOW' ? errors.invalidHeader().withStatus(431) : errors.badRequest();
    const body = JSON.stringify(restErrorBody(e));
    const text = e.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
    socket.end(`HTTP/1.1 ${e.status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

export interface RestServerOptions {
  app: App;
  registry: Registry;
  /** Called around each operation so shutdown can wait for calls in flight. */
  track<T>(work: () => Promise<T>): Promise<T>;
}

export function createRestServer({ app, registry, track }: RestServerOptions) {
  const fastify = Fastify({
    loggerInstance: app.log,
    // One line per request is written by our onResponse hook, with timing and no headers.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: app.settings.maxBodyBytes,
    // The first hop's address is the client's only when an operator says a proxy sets it.
    trustProxy: false,
    return503OnClosing: true,
    clientErrorHandler: answerUnparsableRequest,
    // A path that does not decode (e.g. a stray %) is refused before routing: still a catalogue error.
    frameworkErrors: (_err, _req, reply) => { (reply as FastifyReply).code(400).send(restErrorBody(errors.badRequest())); },
  });

  // JSON bodies only; an empty body is no input rather than an error (Rocket.Chat clients POST
  // without one). Every other type (form-encoded, multipart, text/plain: what an HTML form or a
  // "simple" cross-site request can send without a CORS preflight) is refused with 415.
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(errors.invalidJson(), undefined);
    }
  });

  fastify.addHook('onResponse', (req, reply, done) => {
    const path = req.url.split('?')[0];
    req.log.info({ method: req.method, path, status: reply.statusCode, ms: Math.round(reply.elapsedTime), userId: (req as { userId?: string }).userId }, 'request');
    done();
  });

  fastify.setErrorHandler((err, req, reply) => {
    const known = asTwofoldError(err);
    if (known) return reply.code(known.status).send(restErrorBody(known));
    req.log.error({ err }, 'unexpected error');
    return reply.code(500).send(restErrorBody(errors.internal()));
  });
  fastify.setNotFoundHandler((req, reply) => {
    reply.code(404).send(restErrorBody(errors.notFound(undefined, `No endpoint ${req.method} ${req.url.split('?')[0]}`)));
  });

  fastify.get(API_PATHS.info, async (): Promise<InfoReply> => ({
    version: app.version, emailCodeTtl: app.settings.emailCodeTtl, rememberDeviceDays: app.settings.rememberDeviceDays, success: true,
  }));
  // Built from the registry on first request (it does not change while the server runs), then kept.
  let openapi: string | undefined;
  fastify.get('/api/openapi.json', async (_req, reply) => {
    openapi ??= JSON.stringify(buildOpenApiDocument(registry, app.version));
    return reply.type('application/json; charset=utf-8').send(openapi);
  });

  for (const op of registry.all()) {
    if (!op.rest) continue;
    const binding = op.rest;
    fastify.route({
      method: binding.method,
      url: binding.path,
      handler: (req, reply) => track(() => handle(app, op, req, reply)),
    });
  }
  registerMethodCall(fastify, { app, registry, track });
  registerSockjsInfo(fastify, app);
  registerWebApp(fastify);
  return fastify;
}

async function handle(app: App, op: Operation, req: FastifyRequest, reply: FastifyReply) {
  const binding = op.rest!;
  try {
    const ctx = await restContext(app, req);
    (req as { userId?: string }).userId = ctx.user?.id;
    const raw = binding.input
      ? binding.input({ body: req.body, query: req.query as Record<string, unknown>, headers: req.headers })
      : req.method === 'GET' ? { ...(req.query as object) } : req.body;
    const result = await invoke(op, ctx, raw);
    const out = binding.reply ? binding.reply(result) : defaultReply(result);
    return reply.code(out.status ?? 200).send(out.body);
  } catch (e) {
    const known = asTwofoldError(e);
    if (!known) throw e;
    if (known.rateLimit) setRateLimitHeaders(reply, known.rateLimit);
    const custom = binding.errorReply?.(known);
    if (custom) return reply.code(custom.status).send(custom.body);
    return reply.code(known.status).send(restErrorBody(known));
  }
}

/** A passkey's answer (its assertion JSON) may be longer than any other header value. */
function twoFactorAnswer(req: FastifyRequest) {
  const method = header(req, 'x-2fa-method');
  return parseAnswer({ code: header(req, 'x-2fa-code', method === 'webauthn' ? MAX_WEBAUTHN_ANSWER_LENGTH : undefined), method });
}

/** A REST call has no session of its own to change (the token is the client's); one object for all of them. */
const NO_SESSION: OperationContext['session'] = { loggedIn() {}, loggedOut() {} };

async function restContext(app: App, req: FastifyRequest): Promise<OperationContext> {
  return {
    app,
    transport: 'rest',
    ...await identify(app, req),
    // An unknown method name in the header is no name: the user's own method checks the code.
    answer: twoFactorAnswer(req),
    session: NO_SESSION,
  };
}
