// Meteor DDP (version "1") over a plain WebSocket at /websocket, spec §2.

import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { App } from '../../app.ts';
import { meteorError, meteorErrorOf, TwofoldError } from '../../core/errors.ts';
import { newId } from '../../core/random.ts';
import { ddpInput } from '../../operations/call-with-two-factor.ts';
import { invoke } from '../../operations/invoke.ts';
import type { OperationContext, Registry } from '../../operations/registry.ts';
import { authenticateTokenHash } from '../../services/accounts.ts';
import { clientAddressOf } from '../client-address.ts';
import { EjsonDepthError, fromEjson, toEjson } from './ejson.ts';

export const DDP_PATH = '/websocket';
const SUPPORTED_VERSIONS = ['1', 'pre2', 'pre1'];
const MAX_QUEUED_METHODS = 64;
const TWO_FACTOR_METHODS = ['email', 'totp', 'password'];
// Subscriptions a Rocket.Chat client opens on connect that we answer as ready.
const READY_SUBSCRIPTIONS = new Set(['meteor.loginServiceConfiguration', 'meteor_autoupdate_clientVersions']);

interface Connection {
  socket: WebSocket;
  /** The TCP socket under `socket`: corked so that a method's two answers leave in one write. */
  wire: Duplex;
  sessionId: string | null;
  userId: string | null;
  tokenHash: string | null;
  clientAddress: string;
  userAgent: string;
  lastSeen: number;
  queue: Promise<void>;
  queued: number;
}

export interface DdpServerOptions {
  app: App;
  registry: Registry;
  track<T>(work: () => Promise<T>): Promise<T>;
}

export interface DdpServer {
  attach(server: Server): void;
  connectionCount(): number;
  /** Stop accepting, then close every socket once its queued methods have finished. */
  close(): Promise<void>;
}

const frameOf = (msg: Record<string, unknown>): string => JSON.stringify(toEjson(msg));

function sendFrame(conn: Connection, frame: string): void {
  if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(frame);
}

function send(conn: Connection, msg: Record<string, unknown>): void {
  sendFrame(conn, frameOf(msg));
}

function badFrame(conn: Connection, reason: string, offendingMessage?: unknown): void {
  const msg: Record<string, unknown> = { msg: 'error', reason };
  if (offendingMessage !== undefined) msg.offendingMessage = offendingMessage;
  send(conn, msg);
}

/** The trailing `{twoFactorCode, twoFactorMethod}` that Rocket.Chat clients append to a call. */
function splitTwoFactorParam(params: unknown[]): { params: unknown[]; code?: string | undefined; method?: string | undefined } {
  const last = params[params.length - 1];
  if (last === null || typeof last !== 'object' || Array.isArray(last) || !('twoFactorCode' in last)) return { params };
  const { twoFactorCode, twoFactorMethod } = last as { twoFactorCode: unknown; twoFactorMethod?: unknown };
  const code = typeof twoFactorCode === 'number' ? String(twoFactorCode) : twoFactorCode;
  if (typeof code !== 'string' || code.length > 256) {
    throw new TwofoldError('error-invalid-params', undefined, 'twoFactorCode must be a string');
  }
  if (twoFactorMethod !== undefined && !TWO_FACTOR_METHODS.includes(twoFactorMethod as string)) {
    throw new TwofoldError('error-invalid-params', undefined, 'twoFactorMethod must be one of email, totp, password');
  }
  return { params: params.slice(0, -1), code, method: twoFactorMethod as string | undefined };
}

export function createDdpServer({ app, registry, track }: DdpServerOptions): DdpServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: app.settings.maxFrameBytes });
  const connections = new Set<Connection>();
  let closing = false;

  async function contextFor(conn: Connection, twoFactor: OperationContext['twoFactor']): Promise<OperationContext> {
    // Re-read on every call: a revoked token or a changed 2FA state takes effect at once.
    const found = conn.userId && conn.tokenHash ? await authenticateTokenHash(app, conn.tokenHash, conn.userId) : null;
    if (!found) {
      conn.userId = null;
      conn.tokenHash = null;
    }
    const user = found?.user ?? null;
    const token = found?.token ?? null;
    return {
      app, transport: 'ddp', clientAddress: conn.clientAddress, userAgent: conn.userAgent, user, token, twoFactor,
      session: {
        loggedIn(u, tokenHash) { conn.userId = u.id; conn.tokenHash = tokenHash; },
        loggedOut() { conn.userId = null; conn.tokenHash = null; },
      },
    };
  }

  async function runMethod(conn: Connection, id: string, name: string, rawParams: unknown[]): Promise<void> {
    const started = performance.now();
    let outcome = 'ok';
    let resultFrame: string;
    try {
      const op = registry.ddpMethod(name);
      if (!op) throw new TwofoldError('error-method-not-found', { method: name }, `Method '${name}' not found`);
      const split = splitTwoFactorParam(rawParams);
      const ctx = await contextFor(conn, { code: split.code, method: split.method });
      const result = await invoke(op, ctx, ddpInput(op, split.params));
      const reply = op.ddp?.reply ? op.ddp.reply(result) : result;
      const msg: Record<string, unknown> = { msg: 'result', id };
      // On success there is no `error` key at all: some clients fail on `"error": null`.
      if (reply !== undefined) msg.result = reply;
      resultFrame = frameOf(msg);
    } catch (e) {
      let error: Record<string, unknown>;
      if (e instanceof TwofoldError) {
        outcome = e.code;
        // Meteor's accounts answer a failed login with the numeric 403.
        error = e.code === 'login-failed' ? meteorError(403, e.reason) : meteorErrorOf(e);
      } else {
        outcome = 'error-internal';
        app.log.error({ err: e, method: name }, 'unexpected error in DDP method');
        error = meteorErrorOf(new TwofoldError('error-internal'));
      }
      resultFrame = frameOf({ msg: 'result', id, error });
    }
    // `result` and `updated` in one TCP write rather than two: half the system calls per method.
    conn.wire.cork();
    try {
      sendFrame(conn, resultFrame);
      send(conn, { msg: 'updated', methods: [id] });
    } finally {
      conn.wire.uncork();
    }
    app.log.info({ ddp: name, ms: Math.round(performance.now() - started), outcome, userId: conn.userId ?? undefined }, 'method');
  }

  function onMethod(conn: Connection, frame: Record<string, unknown>): void {
    const { id, method, params } = frame;
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) return badFrame(conn, 'Bad request: method needs a string id', frame);
    if (typeof method !== 'string' || method.length > 128) {
      send(conn, { msg: 'result', id, error: meteorError(400, 'Match failed') });
      return send(conn, { msg: 'updated', methods: [id] });
    }
    if (params !== undefined && !Array.isArray(params)) {
      send(conn, { msg: 'result', id, error: meteorErrorOf(new TwofoldError('error-invalid-params', undefined, 'params must be an array')) });
      return send(conn, { msg: 'updated', methods: [id] });
    }
    if (conn.queued >= MAX_QUEUED_METHODS) {
      send(conn, { msg: 'result', id, error: meteorErrorOf(new TwofoldError('error-too-many-requests', { queued: conn.queued })) });
      return send(conn, { msg: 'updated', methods: [id] });
    }
    // Meteor runs one connection's methods in order; so do we.
    conn.queued++;
    conn.queue = conn.queue.then(() => track(() => runMethod(conn, id, method, (params as unknown[] | undefined) ?? []))).finally(() => {
      conn.queued--;
    });
  }

  function onFrame(conn: Connection, data: RawData, isBinary: boolean): void {
    conn.lastSeen = Date.now();
    if (isBinary) return badFrame(conn, 'Bad request: binary frames are not DDP');
    const text = data.toString();
    let frame: unknown;
    try {
      frame = fromEjson(JSON.parse(text));
    } catch (e) {
      return badFrame(conn, e instanceof EjsonDepthError ? 'Bad request: too deeply nested' : 'Bad request: not JSON', text.slice(0, 1024));
    }
    if (frame === null || typeof frame !== 'object' || Array.isArray(frame) || typeof (frame as { msg?: unknown }).msg !== 'string') {
      return badFrame(conn, 'Bad request: no msg', toEjson(frame));
    }
    const f = frame as Record<string, unknown>;
    if (conn.sessionId === null && f.msg !== 'connect' && f.msg !== 'ping' && f.msg !== 'pong') {
      return badFrame(conn, 'Must connect first', toEjson(f));
    }
    switch (f.msg) {
      case 'connect': {
        const version = f.version;
        if (typeof version !== 'string' || !SUPPORTED_VERSIONS.includes(version)) return send(conn, { msg: 'failed', version: '1' });
        // A session id the client offers is ignored: every connection is a new session.
        conn.sessionId ??= newId(app.random);
        return send(conn, { msg: 'connected', session: conn.sessionId });
      }
      case 'ping':
        return send(conn, typeof f.id === 'string' ? { msg: 'pong', id: f.id } : { msg: 'pong' });
      case 'pong':
        return;
      case 'method':
        return onMethod(conn, f);
      case 'callWithTwoFactorRequired': {
        // The seeds print the call as its own frame, payload beside `msg` and `id`; it is run
        // exactly as the method of that name with the payload as its one parameter.
        const { msg: _msg, id, ...payload } = f;
        return onMethod(conn, { id, method: 'callWithTwoFactorRequired', params: [payload] });
      }
      case 'sub': {
        if (typeof f.id !== 'string') return badFrame(conn, 'Bad request: sub needs a string id', toEjson(f));
        if (typeof f.name === 'string' && READY_SUBSCRIPTIONS.has(f.name)) return send(conn, { msg: 'ready', subs: [f.id] });
        return send(conn, { msg: 'nosub', id: f.id, error: meteorError(404, `Subscription '${String(f.name).slice(0, 128)}' not found`) });
      }
      case 'unsub':
        if (typeof f.id !== 'string') return badFrame(conn, 'Bad request: unsub needs a string id', toEjson(f));
        return send(conn, { msg: 'nosub', id: f.id });
      default:
        return badFrame(conn, 'Bad request: unknown msg', toEjson(f));
    }
  }

  wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    const conn: Connection = {
      socket, wire: req.socket, sessionId: null, userId: null, tokenHash: null,
      clientAddress: clientAddressOf(req.socket.remoteAddress, req.headers['x-forwarded-for'], app.settings.trustProxy),
      userAgent: String(req.headers['user-agent'] ?? '').slice(0, 512),
      lastSeen: Date.now(), queue: Promise.resolve(), queued: 0,
    };
    connections.add(conn);
    socket.send('{"server_id":"0"}');
    socket.on('message', (data, isBinary) => onFrame(conn, data, isBinary));
    socket.on('close', () => connections.delete(conn));
    socket.on('error', (err) => app.log.debug({ err: err.message }, 'DDP socket error'));
  });

  // Keep-alive: ping quiet clients, drop the ones that stay silent.
  const intervalMs = app.settings.ddpPingInterval * 1000;
  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const conn of connections) {
      if (now - conn.lastSeen > 2 * intervalMs) conn.socket.terminate();
      else if (now - conn.lastSeen >= intervalMs) send(conn, { msg: 'ping' });
    }
  }, Math.max(250, intervalMs / 2));
  heartbeat.unref();

  return {
    attach(server: Server) {
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        const path = (req.url ?? '').split('?')[0];
        if (closing || path !== DDP_PATH) {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      });
    },
    connectionCount: () => connections.size,
    async close() {
      closing = true;
      clearInterval(heartbeat);
      await Promise.all([...connections].map(async (conn) => {
        await conn.queue;
        conn.socket.close(1001, 'server shutting down');
      }));
      wss.close();
    },
  };
}
