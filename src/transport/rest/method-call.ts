// DDP over REST, as Rocket.Chat's web and mobile clients use it: `POST
// /api/v1/method.call/:method` (logged in, X-User-Id / X-Auth-Token) and
// `/api/v1/method.callAnon/:method` (no login) carry one DDP `method` message as an EJSON
// string in `{message}` and answer `{message: <EJSON of the DDP result message>, success: true}`.
// The call runs through the same dispatch as a socket's `method` frame, so a method's errors
// (2FA challenges included) travel inside `message` exactly as on the socket, with HTTP 200.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../app.ts';
import { errors, TwofoldError } from '../../core/errors.ts';
import { restErrorBody } from './errors.ts';
import type { Registry } from '../../operations/registry.ts';
import { dispatchMethod, resultMessage } from '../ddp/dispatch.ts';
import { EjsonDepthError, fromEjson, toEjson } from '../ddp/ejson.ts';
import { identify } from './request.ts';

export interface MethodCallOptions {
  app: App;
  registry: Registry;
  track<T>(work: () => Promise<T>): Promise<T>;
}

interface MethodMessage {
  id: string;
  method: string;
  params: unknown[];
}

/** The DDP message inside `{message}`, or the HTTP 400 that says what is wrong with it. */
function parseMessage(app: App, body: unknown): MethodMessage {
  const message = body !== null && typeof body === 'object' ? (body as { message?: unknown }).message : undefined;
  if (message === undefined) throw errors.parameterRequired({ param: 'message' }, 'message is required');
  if (typeof message !== 'string') throw errors.invalidParams(undefined, 'message must be a string');
  // The message is a DDP frame in all but name: the socket's frame limit applies.
  if (Buffer.byteLength(message) > app.settings.maxFrameBytes) throw errors.bodyTooLarge({ limit: app.settings.maxFrameBytes });
  let data: unknown;
  try {
    data = fromEjson(JSON.parse(message));
  } catch (e) {
    throw errors.invalidJson(undefined, e instanceof EjsonDepthError ? 'message is too deeply nested' : 'message is not valid EJSON');
  }
  const m = data as Record<string, unknown> | null;
  const valid = m !== null && typeof m === 'object' && !Array.isArray(m) && m.msg === 'method'
    && typeof m.id === 'string' && m.id.length > 0 && m.id.length <= 128
    && typeof m.method === 'string' && m.method.length > 0 && m.method.length <= 128
    && (m.params === undefined || Array.isArray(m.params));
  if (!valid) throw errors.invalidParams(undefined, 'Invalid method call');
  return { id: m.id as string, method: m.method as string, params: (m.params as unknown[] | undefined) ?? [] };
}

async function handle(app: App, registry: Registry, anonymous: boolean, req: FastifyRequest, reply: FastifyReply) {
  try {
    const who = await identify(app, req);
    // method.call is for a login; callAnon runs as nobody even when auth headers are sent (as Rocket.Chat).
    if (!anonymous && !who.user) throw errors.loginRequired().withStatus(401);
    const user = anonymous ? null : who.user;
    const token = anonymous ? null : who.token;
    (req as { userId?: string }).userId = user?.id;
    const call = parseMessage(app, req.body);
    // Rocket.Chat's client puts the method in the path with "/" as ":"; a path naming another
    // method than the message would let logs and proxy rules see one call while another runs.
    const named = (req.params as { method: string }).method;
    if (named !== call.method && named !== call.method.replace(/\//g, ':')) {
      throw errors.invalidParams({ path: named.slice(0, 128), method: call.method }, 'The method in the path is not the one in the message');
    }
    const outcome = await dispatchMethod(app, registry, {
      via: anonymous ? 'method.callAnon' : 'method.call',
      context: async (answer) => ({
        app, transport: 'ddp', clientAddress: who.clientAddress, userAgent: who.userAgent, user, token, answer,
        // No connection to keep a login on: a login's token is in its result, as Rocket.Chat's client expects.
        session: { loggedIn() {}, loggedOut() {} },
      }),
      userId: () => user?.id,
    }, call.method, call.params);
    return reply.code(200).send({ message: JSON.stringify(toEjson(resultMessage(call.id, outcome))), success: true });
  } catch (e) {
    if (!(e instanceof TwofoldError)) throw e;
    return reply.code(e.status).send(restErrorBody(e));
  }
}

export function registerMethodCall<L extends FastifyBaseLogger>(fastify: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, L>, { app, registry, track }: MethodCallOptions): void {
  for (const anonymous of [false, true]) {
    fastify.post(`/api/v1/${anonymous ? 'method.callAnon' : 'method.call'}/:method`, (req, reply) => track(() => handle(app, registry, anonymous, req, reply)));
  }
}
