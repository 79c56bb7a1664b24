import { createHash } from 'node:crypto';
import WebSocket from 'ws';

export interface MeteorErrorShape {
  isClientSafe?: boolean;
  error: string | number;
  reason?: string;
  details?: Record<string, any>;
  message?: string;
  errorType?: string;
}

export class DdpCallError extends Error {
  constructor(readonly error: MeteorErrorShape) {
    super(error.message ?? String(error.error));
  }
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The `login` parameter a Meteor client sends for a password: the SHA-256 digest, never the password. */
export const passwordLoginRequest = (username: string, password: string) =>
  ({ user: { username }, password: { digest: sha256(password), algorithm: 'sha-256' } });

/** A small DDP client over a plain WebSocket: what a test needs to see every frame. */
export class DdpTestClient {
  readonly frames: any[] = [];
  private nextId = 1;
  private waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString();
      let frame: any;
      try { frame = JSON.parse(text); } catch { frame = { unparsable: text }; }
      this.frames.push(frame);
      for (const w of [...this.waiters]) {
        if (w.pred(frame)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(frame);
        }
      }
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async open(url: string, opts: { connect?: boolean; headers?: Record<string, string> } = {}): Promise<DdpTestClient> {
    const socket = new WebSocket(url, { headers: opts.headers });
    await new Promise<void>((resolve, reject) => { socket.once('open', () => resolve()); socket.once('error', reject); });
    const client = new DdpTestClient(socket);
    if (opts.connect !== false) {
      client.send({ msg: 'connect', version: '1', support: ['1', 'pre2', 'pre1'] });
      await client.waitFor((f) => f.msg === 'connected');
    }
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  waitFor(pred: (f: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const hit = this.frames.find(pred);
    if (hit) {
      this.frames.splice(this.frames.indexOf(hit), 1);
      return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching DDP frame')), timeoutMs);
      this.waiters.push({ pred, resolve: (f) => { clearTimeout(timer); this.frames.splice(this.frames.indexOf(f), 1); resolve(f); } });
    });
  }

  /** Sends a method call and resolves with the whole `result` frame. */
  async callRaw(method: string, ...params: unknown[]): Promise<any> {
    const id = String(this.nextId++);
    const pending = this.waitFor((f) => f.msg === 'result' && f.id === id);
    this.send({ msg: 'method', id, method, params });
    return pending;
  }

  /** Resolves with the result, or rejects with a DdpCallError carrying the Meteor error. */
  async call(method: string, ...params: unknown[]): Promise<any> {
    const frame = await this.callRaw(method, ...params);
    if ('error' in frame) throw new DdpCallError(frame.error);
    return frame.result;
  }

  async loginWithPassword(username: string, password: string, code?: string): Promise<any> {
    const request = passwordLoginRequest(username, password);
    return this.call('login', code ? { totp: { login: request, code } } : request);
  }

  close(): void {
    this.socket.close();
  }
}

/** The Meteor error a call rejected with. */
export async function ddpError(promise: Promise<unknown>): Promise<MeteorErrorShape> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof DdpCallError) return e.error;
    throw e;
  }
  throw new Error('expected the call to fail');
}
