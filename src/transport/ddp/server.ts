// Meteor DDP (version "1") over a plain WebSocket at /websocket, spec §2, and the same
// sessions wrapped in SockJS framing at /sockjs/<server>/<session>/websocket, where Meteor's
// browser client connects.

import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { App } from '../../app.ts';
import { errors } from '../../core/errors.ts';
import { newId } from '../../core/random.ts';
import type { OperationContext, Registry } from '../../operations/registry.ts';
import type { SecondFactorAnswer } from '../../core/twofactor/answer.ts';
import { authenticateTokenHash } from '../../operations/shared/accounts.ts';
import { clientAddressOf } from '../client-address.ts';
import { restErrorBody } from '../rest/errors.ts';
import { dispatchMethod, resultMessage, type MethodCaller } from './dispatch.ts';
import { EjsonDepthError, fromEjson, toEjson } from './ejson.ts';
import { meteorError, meteorErrorOf } from './errors.ts';
import { originAllowed } from './origin.ts';

export const DDP_PATH = '/websocket';
/** SockJS's own path for a raw (unframed) WebSocket; Meteor serves /websocket as this. */
const SOCKJS_RAW_PATH = '/sockjs/websocket';
/** SockJS's WebSocket transport: /<prefix>/<server id>/<session id>/websocket (ids: no "/" or "."). */
const SOCKJS_PATH = /^\/sockjs\/[^/.]{1,32}\/[^/.]{1,64}\/websocket$/;
/** SockJS servers send a heartbeat frame `h` every 25 s by default; proxies see a live socket. */
const SOCKJS_HEARTBEAT_MS = 25_000;
const SUPPORTED_VERSIONS = ['1', 'pre2', 'pre1'];
const MAX_QUEUED_METHODS = 64;
// Subscriptions a Rocket.Chat client opens on connect that we answer as ready.
const READY_SUBSCRIPTIONS = new Set(['meteor.loginServiceConfiguration', 'meteor_autoupdate_clientVersions']);

type Framing = 'raw' | 'sockjs';

interface Connection {
  socket: WebSocket;
  /** raw: one DDP message per WebSocket message; sockjs: `a["…","…"]` out, `["…"]` in. */
  framing: Framing;
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
  /** Built once per connection rather than once per method (per-call allocations showed in the profile). */
  control: OperationContext['session'];
  caller: MethodCaller | null;
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

/** DDP messages to the client: one write however many there are (a result and its `updated`). */
function sendFrames(conn: Connection, frames: string[]): void {
  if (conn.socket.readyState !== conn.socket.OPEN) return;
  if (conn.framing === 'sockjs') {
    conn.socket.send(`a${JSON.stringify(frames)}`);
    return;
  }
  // Corked: the frames leave in one TCP write rather than one each (half the system calls per method).
  conn.wire.cork();
  try {
    for (const frame of frames) conn.socket.send(frame);
  } finally {
    conn.wire.uncork();
  }
}

function send(conn: Connection, ...msgs: Record<string, unknown>[]): void {
  sendFrames(conn, msgs.map(frameOf));
}

/** A method's answer and its `updated`: the second frame is fixed but for the id, so it is not built as an object. */
function sendAnswer(conn: Connection, result: Record<string, unknown>, id: string): void {
  sendFrames(conn, [frameOf(result), `{"msg":"updated","methods":[${JSON.stringify(id)}]}`]);
}

function badFrame(conn: Connection, reason: string, offendingMessage?: unknown): void {
  const msg: Record<string, unknown> = { msg: 'error', reason };
  if (offendingMessage !== undefined) msg.offendingMessage = offendingMessage;
  send(conn, msg);
}

/** Ends a socket; a SockJS client learns the code and reason from a `c` frame first. */
function closeConnection(conn: Connection, code: number, reason: string): void {
  if (conn.framing === 'sockjs' && conn.socket.readyState === conn.socket.OPEN) conn.socket.send(`c${JSON.stringify([code, reason])}`);
  conn.socket.close(code, reason);
}

export function createDdpServer({ app, registry, track }: DdpServerOptions): DdpServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: app.settings.maxFrameBytes });
  const connections = new Set<Connection>();
  let closing = false;

  async function contextFor(conn: Connection, answer: SecondFactorAnswer): Promise<OperationContext> {
    // Checked on every call, a revoked token or a changed 2FA state taking effect at once (from
    // memory only while the copy is known to be current: src/store/session-cache.ts).
    const found = conn.userId && conn.tokenHash ? await authenticateTokenHash(app, conn.tokenHash, conn.userId) : null;
    if (!found) {
      conn.userId = null;
      conn.tokenHash = null;
    }
    const user = found?.user ?? null;
    const token = found?.token ?? null;
    return {
      app, transport: 'ddp', clientAddress: conn.clientAddress, userAgent: conn.userAgent, user, token, answer, session: conn.control,
    };
  }

  function callerOf(conn: Connection): MethodCaller {
    conn.caller ??= {
      via: conn.framing === 'sockjs' ? 'sockjs' : 'websocket',
      context: (answer) => contextFor(conn, answer),
      userId: () => conn.userId ?? undefined,
    };
    return conn.caller;
  }

  async function runMethod(conn: Connection, id: string, name: string, rawParams: unknown[]): Promise<void> {
    const outcome = await dispatchMethod(app, registry, callerOf(conn), name, rawParams);
    sendAnswer(conn, resultMessage(id, outcome), id);
  }

  function onMethod(conn: Connection, frame: Record<string, unknown>): void {
    const { id, method, params } = frame;
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) return badFrame(conn, 'Bad request: method needs a string id', frame);
    if (typeof method !== 'string' || method.length > 128) {
      return send(conn, { msg: 'result', id, error: meteorError(400, 'Match failed') }, { msg: 'updated', methods: [id] });
    }
    if (params !== undefined && !Array.isArray(params)) {
      const error = meteorErrorOf(errors.invalidParams(undefined, 'params must be an array'));
      return send(conn, { msg: 'result', id, error }, { msg: 'updated', methods: [id] });
    }
    if (conn.queued >= MAX_QUEUED_METHODS) {
      const error = meteorErrorOf(errors.tooManyRequests({ queued: conn.queued }));
      return send(conn, { msg: 'result', id, error }, { msg: 'updated', methods: [id] });
    }
    // Meteor runs one connection's methods in order; so do we.
    conn.queued++;
    conn.queue = conn.queue.then(() => track(() => runMethod(conn, id, method, (params as unknown[] | undefined) ?? []))).finally(() => {
      conn.queued--;
    });
  }

  function onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    conn.lastSeen = app.clock.now();
    if (isBinary) return badFrame(conn, 'Bad request: binary frames are not DDP');
    const text = data.toString();
    if (conn.framing === 'raw') return onText(conn, text);
    // SockJS: a JSON array of DDP messages, each a string (or one bare string); anything
    // else is broken framing, which a SockJS server answers by closing, as here.
    if (text.length === 0) return;
    let batch: unknown;
    try {
      batch = JSON.parse(text);
    } catch {
      batch = undefined;
    }
    const texts = Array.isArray(batch) ? batch : [batch];
    if (!texts.every((t) => typeof t === 'string')) return closeConnection(conn, 3000, 'Broken framing.');
    for (const t of texts as string[]) onText(conn, t);
  }

  function onText(conn: Connection, text: string): void {
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

  wss.on('connection', (socket: WebSocket, req: IncomingMessage, framing: Framing) => {
    const conn: Connection = {
      socket, framing, wire: req.socket, sessionId: null, userId: null, tokenHash: null,
      clientAddress: clientAddressOf(req.socket.remoteAddress, req.headers['x-forwarded-for'], app.settings.trustProxy),
      userAgent: String(req.headers['user-agent'] ?? '').slice(0, 512),
      lastSeen: app.clock.now(), queue: Promise.resolve(), queued: 0, caller: null,
      control: {
        loggedIn(u, tokenHash) { conn.userId = u.id; conn.tokenHash = tokenHash; },
        loggedOut() { conn.userId = null; conn.tokenHash = null; },
      },
    };
    connections.add(conn);
    if (framing === 'sockjs') socket.send('o');
    sendFrames(conn, ['{"server_id":"0"}']);
    socket.on('message', (data, isBinary) => onMessage(conn, data, isBinary));
    socket.on('close', () => connections.delete(conn));
    socket.on('error', (err) => app.log.debug({ err: err.message }, 'DDP socket error'));
  });

  // Keep-alive: ping quiet clients, drop the ones that stay silent. Quiet is measured on the
  // app's clock, so a test moves a fake clock instead of waiting.
  const intervalMs = app.settings.ddpPingInterval * 1000;
  const heartbeat = setInterval(() => {
    const now = app.clock.now();
    for (const conn of connections) {
      if (now - conn.lastSeen > 2 * intervalMs) conn.socket.terminate();
      else if (now - conn.lastSeen >= intervalMs) send(conn, { msg: 'ping' });
    }
  }, Math.max(250, intervalMs / 2));
  heartbeat.unref();
  const sockjsHeartbeat = setInterval(() => {
    for (const conn of connections) {
      if (conn.framing === 'sockjs' && conn.socket.readyState === conn.socket.OPEN) conn.socket.send('h');
    }
  }, SOCKJS_HEARTBEAT_MS);
  sockjsHeartbeat.unref();

  return {
    attach(server: Server) {
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        const path = (req.url ?? '').split('?')[0]!;
        const framing: Framing | null = path === DDP_PATH || path === SOCKJS_RAW_PATH ? 'raw' : SOCKJS_PATH.test(path) ? 'sockjs' : null;
        if (closing || framing === null) {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
          return;
        }
        // Before the handshake: a page from another site never gets a socket to speak on.
        if (!originAllowed({ headers: req.headers, peer: req.socket.remoteAddress }, app.settings)) {
          const body = JSON.stringify(restErrorBody(errors.originNotAllowed()));
          socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
          app.log.info({ origin: String(req.headers.origin).slice(0, 256), path }, 'DDP upgrade refused: origin not allowed');
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req, framing));
      });
    },
    connectionCount: () => connections.size,
    async close() {
      closing = true;
      clearInterval(heartbeat);
      clearInterval(sockjsHeartbeat);
      await Promise.all([...connections].map(async (conn) => {
        await conn.queue;
        closeConnection(conn, 1001, 'server shutting down');
      }));
      wss.close();
    },
  };
}
