// Ceiling A: the least a Fastify route on this machine can do for the same request —
// read the two auth headers, answer a small JSON, log one line like Twofold does.
import Fastify, { LogController } from 'fastify';
import { send, serve } from '../lib/ipc.ts';
import { ceilingLogger } from './logger.ts';

const fastify = Fastify({
  loggerInstance: ceilingLogger(),
  logController: new LogController({ disableRequestLogging: true }),
});
fastify.addHook('onResponse', (req, reply, done) => {
  req.log.info({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  done();
});
fastify.route({
  method: ['GET', 'POST'],
  url: '/*',
  handler: async (req) => {
    const userId = req.headers['x-user-id'];
    const token = req.headers['x-auth-token'];
    return { success: true, userId: typeof userId === 'string' ? userId : null, authenticated: typeof token === 'string' };
  },
});
await fastify.listen({ port: 0, host: '127.0.0.1' });
serve({}, () => fastify.close());
const address = fastify.server.address();
send({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
