// SockJS clients (Meteor's browser client among them) first ask `GET /sockjs/info` whether
// the server speaks WebSocket, then open /sockjs/<server>/<session>/websocket (ddp/server.ts).
// Only the WebSocket transport is offered: the streaming and polling fallbacks are not served.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../app.ts';
import { originAllowed } from '../ddp/origin.ts';

/** A page allowed to open the socket may read this from its own script (SockJS asks cross-origin with credentials). */
function allowPage(app: App, req: FastifyRequest, reply: FastifyReply): void {
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || !originAllowed({ headers: req.headers, peer: req.socket.remoteAddress }, app.settings)) return;
  reply.header('Access-Control-Allow-Origin', origin);
  reply.header('Access-Control-Allow-Credentials', 'true');
  reply.header('Vary', 'Origin');
}

export function registerSockjsInfo<L extends FastifyBaseLogger>(fastify: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, L>, app: App): void {
  fastify.get('/sockjs/info', async (req, reply) => {
    allowPage(app, req, reply);
    reply.header('Cache-Control', 'no-store, no-cache, must-revalidate, max-age=0');
    reply.header('Content-Type', 'application/json; charset=UTF-8');
    // `entropy` is SockJS's random number for clients without a good source of their own.
    return { websocket: true, origins: ['*:*'], cookie_needed: false, entropy: app.random.int(2 ** 32) };
  });
  fastify.options('/sockjs/info', async (req, reply) => {
    allowPage(app, req, reply);
    reply.header('Access-Control-Allow-Methods', 'OPTIONS, GET');
    reply.header('Access-Control-Max-Age', '31536000');
    return reply.code(204).send();
  });
}
