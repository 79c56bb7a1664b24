// DDP client: Meteor's protocol over one plain WebSocket at `/websocket` (spec §2). A
// protected method refused with `totp-required` is called again with the trailing
// `{twoFactorCode, twoFactorMethod}` parameter; a login with `{totp: {login, code}}`.
// The WebSocket is the global one (browsers, Node ≥ 22) or the constructor the caller
// passes (`ws` on Node 20), so the browser build never pulls in `ws`.
import { toAnswer, withChallenges, type Answer } from './challenge.ts';
import { sha256Hex } from './digest.ts';
import { fromEjson, toEjson } from './ejson.ts';
import { serverError, TwofoldClientError } from './errors.ts';
import type { ChallengeOptions, DdpLoginResult, DdpUserSelector, LoginOptions } from './types.ts';

/** The part of the WebSocket API the client uses; the browser's and `ws`'s both fit. */
interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** `WebSocket` of the browser or of the `ws` package. */
export type WebSocketConstructor = new (url: string) => object;

export interface DdpClientOptions extends ChallengeOptions {
  /** `https://host`, `wss://host` or the full `wss://host/websocket`. */
  url: string;
  /** Needed where there is no global WebSocket (Node 20): `import WebSocket from 'ws'`. */
  WebSocket?: WebSocketConstructor;
}

/** A Meteor error as it travels inside a `result`. */
interface MeteorError {
  error?: string | number;
  reason?: string;
  details?: Record<string, unknown>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

const OPEN = 1;
type Params = unknown[];

/** The trailing parameter current Rocket.Chat clients send with a protected method. */
function trailing(answer: Answer) {
  // The trailing parameter must hold a code: DDP has no way to ask for another method's challenge.
  if (answer.code === undefined) {
    throw new TwofoldClientError('bad-request', { transport: 'ddp', reason: 'On DDP the hook must answer with a code (a reply without one only works on REST)' });
  }
  return { twoFactorCode: answer.code, twoFactorMethod: answer.method };
}

export class DdpClient {
  /** The server's session id from `connected`. */
  session = '';
  userId: string | null = null;
  token: string | null = null;
  /** Settles when the socket closes, for whatever reason. */
  readonly closed: Promise<{ code: number; reason: string }>;

  readonly #socket: SocketLike;
  readonly #options: DdpClientOptions;
  readonly #pending = new Map<string, Pending>();
  #nextId = 1;
  #isClosed = false;
  /** Set by connect() until the server answers `connected` or `failed`. */
  #onConnected: ((msg: Record<string, unknown>) => void) | null = null;

  private constructor(socket: SocketLike, options: DdpClientOptions) {
    this.#socket = socket;
    this.#options = options;
    this.closed = new Promise((resolve) => {
      socket.onclose = (ev) => {
        this.#isClosed = true;
        const error = new TwofoldClientError('connection-closed', { transport: 'ddp', reason: `Connection closed (${ev.code})` });
        for (const p of this.#pending.values()) p.reject(error);
        this.#pending.clear();
        resolve({ code: ev.code, reason: String(ev.reason ?? '') });
      };
    });
    socket.onmessage = (ev) => this.#receive(ev.data);
  }

  /** Opens the socket and completes the DDP handshake. */
  static async connect(options: DdpClientOptions): Promise<DdpClient> {
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) throw new TypeError('No global WebSocket here: pass one, e.g. { WebSocket } from the "ws" package');
    const socket = new Ctor(socketUrl(options.url)) as SocketLike;
    const client = new DdpClient(socket, options);
    return new Promise((resolve, reject) => {
      const fail = (reason: string) => {
        reject(new TwofoldClientError('connection-closed', { transport: 'ddp', reason }));
        if (socket.readyState === OPEN) socket.close();
      };
      socket.onerror = () => fail('The WebSocket could not be opened');
      void client.closed.then((c) => fail(`Connection closed (${c.code})`));
      socket.onopen = () => client.#write({ msg: 'connect', version: '1', support: ['1', 'pre2', 'pre1'] });
      client.#onConnected = (msg) => {
        // `ws` throws when an 'error' event has no listener; the close that follows is what counts.
        socket.onerror = () => {};
        if (msg.msg === 'failed') return fail(`The server speaks DDP ${String(msg.version)} only`);
        client.session = String(msg.session ?? '');
        resolve(client);
      };
    });
  }

  /**
   * Calls a method; a second-factor challenge goes to the hook and the call is made again
   * with its code. Dates in params and results are EJSON-converted.
   */
  call<T = unknown>(method: string, ...params: Params): Promise<T> {
    if (method === 'login') return this.#login(params[0] as Record<string, unknown>) as Promise<T>;
    return withChallenges(this.#options, { transport: 'ddp', call: method },
      (answer) => this.#apply(method, answer ? [...params, trailing(answer)] : params)) as Promise<T>;
  }

  /** One method call as is: no challenge handling. */
  apply<T = unknown>(method: string, params: Params = []): Promise<T> {
    return this.#apply(method, params) as Promise<T>;
  }

  /** `user` is a username, an email (contains `@`) or Meteor's selector. */
  async loginWithPassword(user: DdpUserSelector, password: string, options: LoginOptions = {}): Promise<DdpLoginResult> {
    const selector = typeof user !== 'string' ? user : user.includes('@') ? { email: user } : { username: user };
    const request: Record<string, unknown> = { user: selector, password: { digest: await sha256Hex(password), algorithm: 'sha-256' } };
    if (options.deviceToken) request.deviceToken = options.deviceToken;
    return this.#login(request, options);
  }

  /** Logs this connection in with a token from an earlier login (never challenged). */
  resume(token: string): Promise<DdpLoginResult> {
    return this.#login({ resume: token });
  }

  async logout(): Promise<void> {
    await this.#apply('logout', []);
    this.userId = null;
    this.token = null;
  }

  /** Mails a new code ("send again"); answers where it went. */
  sendEmailCode(emailOrUsername: string): Promise<string[]> {
    return this.#apply('sendEmailCode', [emailOrUsername]) as Promise<string[]>;
  }

  /** Round trip to the server (DDP `ping` / `pong`). */
  ping(): Promise<void> {
    const id = `p${this.#nextId++}`;
    return new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#write({ msg: 'ping', id });
    }).then(() => undefined);
  }

  close(): Promise<{ code: number; reason: string }> {
    if (!this.#isClosed) this.#socket.close(1000);
    return this.closed;
  }

  async #login(request: Record<string, unknown>, options: LoginOptions = {}): Promise<DdpLoginResult> {
    const hooks = options.onChallenge ? { ...this.#options, onChallenge: options.onChallenge } : this.#options;
    const first = options.answer ? toAnswer(options.answer, 'totp') ?? undefined : undefined;
    const result = await withChallenges(hooks, { transport: 'ddp', call: 'login' }, (answer) => {
      if (!answer) return this.#apply('login', [request]);
      const login = answer.code !== undefined && (options.rememberDevice || answer.rememberDevice) ? { ...request, rememberDevice: true } : request;
      // A passkey's assertion is longer than the login's `code` takes: it travels as the
      // trailing parameter, as a protected method's code does.
      if (answer.method === 'webauthn') return this.#apply('login', [login, trailing(answer)]);
      // Otherwise the second factor wraps the same request (spec §1); the server picks the method.
      return this.#apply('login', [{ totp: { login, code: trailing(answer).twoFactorCode } }]);
    }, first);
    const r = result as DdpLoginResult;
    if (!r || typeof r.id !== 'string' || typeof r.token !== 'string') {
      throw new TwofoldClientError('bad-response', { transport: 'ddp', reason: 'The login answer has no token' });
    }
    this.userId = r.id;
    this.token = r.token;
    return r;
  }

  #apply(method: string, params: Params): Promise<unknown> {
    if (this.#isClosed) {
      return Promise.reject(new TwofoldClientError('connection-closed', { transport: 'ddp', reason: 'Connection closed' }));
    }
    const id = String(this.#nextId++);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#write({ msg: 'method', id, method, params: toEjson(params) });
    });
  }

  #write(frame: Record<string, unknown>): void {
    if (this.#socket.readyState === OPEN) this.#socket.send(JSON.stringify(frame));
  }

  #receive(data: unknown): void {
    let msg: Record<string, unknown>;
    try {
      const text = typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer | Uint8Array);
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return; // Not DDP; the server never sends such frames.
    }
    if (!msg || typeof msg !== 'object') return;
    switch (msg.msg) {
      case 'connected':
      case 'failed':
        this.#onConnected?.(msg);
        this.#onConnected = null;
        return;
      case 'ping':
        // The server closes a connection that stops answering its pings (spec §2).
        this.#write(msg.id === undefined ? { msg: 'pong' } : { msg: 'pong', id: msg.id });
        return;
      case 'pong':
        this.#settle(msg.id, (p) => p.resolve(undefined));
        return;
      case 'result':
        this.#settle(msg.id, (p) => {
          if (msg.error && typeof msg.error === 'object') p.reject(errorOf(msg.error as MeteorError));
          else p.resolve(fromEjson(msg.result));
        });
        return;
      case 'error': {
        // A frame the server could not read; if it was one of our calls, fail that call.
        const offending = msg.offendingMessage as { id?: unknown } | undefined;
        this.#settle(offending?.id, (p) => p.reject(new TwofoldClientError('bad-request', {
          transport: 'ddp', reason: typeof msg.reason === 'string' ? msg.reason : 'Bad request',
        })));
        return;
      }
      default:
        // `updated`, `added`, `ready`…: nothing this client waits for.
    }
  }

  #settle(id: unknown, fn: (p: Pending) => void): void {
    if (typeof id !== 'string') return;
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    fn(p);
  }
}

function errorOf(e: MeteorError): TwofoldClientError {
  const code = e.error === undefined ? 'error' : String(e.error);
  return serverError(code, { transport: 'ddp', reason: e.reason, details: e.details });
}

/** `https://h` → `wss://h/websocket`; a URL already ending in `/websocket` is kept. */
export function socketUrl(url: string): string {
  const u = new URL(url);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (!u.pathname.endsWith('/websocket')) u.pathname = `${u.pathname.replace(/\/+$/, '')}/websocket`;
  return u.toString();
}
