// DDP load from its own process: many WebSocket connections, each a DDP session, each
// making one method call at a time (a round trip is `method` out until `updated` back).
// Also holds idle sessions open while the parent measures the server's memory.
import WebSocket from 'ws';
import { send, serve } from '../lib/ipc.ts';

interface Conn {
  ws: WebSocket;
  nextId: number;
  pendingId: string | null;
  sentAt: number;
  failed: boolean;
  onFrame: ((f: any) => void) | null;
}

let conns: Conn[] = [];
let measuring: { from: number; until: number; latencies: number[]; errors: number; samples: string[]; method: string; params: unknown[] } | null = null;

function openOne(url: string, resume: string | undefined): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers: { 'user-agent': 'twofold-bench' } });
    const conn: Conn = { ws, nextId: 1, pendingId: null, sentAt: 0, failed: false, onFrame: null };
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('DDP connect timed out')); }, 60_000);
    ws.on('error', (e) => { clearTimeout(timer); reject(e); });
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.msg === 'ping') return ws.send(JSON.stringify(f.id ? { msg: 'pong', id: f.id } : { msg: 'pong' }));
      conn.onFrame?.(f);
    });
    ws.on('open', () => {
      conn.onFrame = (f) => {
        if (f.msg === 'connected') {
          if (!resume) return done();
          ws.send(JSON.stringify({ msg: 'method', id: 'login', method: 'login', params: [{ resume }] }));
        } else if (f.msg === 'result' && f.id === 'login') {
          if (f.error) { clearTimeout(timer); reject(new Error(`DDP resume login failed: ${JSON.stringify(f.error)}`)); } else done();
        } else if (f.msg === 'failed') {
          clearTimeout(timer);
          reject(new Error('DDP version refused'));
        }
      };
      ws.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1'] }));
    });
    function done() {
      clearTimeout(timer);
      conn.onFrame = null;
      resolve(conn);
    }
  });
}

async function open(m: { url: string; connections: number; resume?: string; batch?: number }) {
  const started = performance.now();
  const batch = m.batch ?? 100;
  for (let i = 0; i < m.connections; i += batch) {
    const n = Math.min(batch, m.connections - i);
    conns.push(...await Promise.all(Array.from({ length: n }, () => openOne(m.url, m.resume))));
  }
  return { type: 'opened', connections: conns.length, ms: performance.now() - started };
}

function call(conn: Conn) {
  const m = measuring;
  if (!m || performance.now() >= m.until) return;
  const id = String(conn.nextId++);
  conn.pendingId = id;
  conn.failed = false;
  conn.sentAt = performance.now();
  conn.ws.send(JSON.stringify({ msg: 'method', id, method: m.method, params: m.params }));
}

async function run(m: { method: string; params: unknown[]; seconds: number; warmup: number }) {
  const start = performance.now();
  measuring = { from: start + m.warmup * 1000, until: start + (m.warmup + m.seconds) * 1000, latencies: [], errors: 0, samples: [], method: m.method, params: m.params };
  const state = measuring;
  for (const conn of conns) {
    conn.onFrame = (f) => {
      if (f.msg === 'result' && f.id === conn.pendingId && f.error) {
        conn.failed = true;
        if (state.samples.length < 3) state.samples.push(JSON.stringify(f.error).slice(0, 300));
      } else if (f.msg === 'updated' && Array.isArray(f.methods) && f.methods.includes(conn.pendingId)) {
        const now = performance.now();
        if (now >= state.from && now <= state.until) {
          state.latencies.push(now - conn.sentAt);
          if (conn.failed) state.errors++;
        }
        conn.pendingId = null;
        call(conn);
      }
    };
    call(conn);
  }
  // Every connection stops after its reply once the time is up; wait for the last ones.
  await new Promise((r) => setTimeout(r, (m.warmup + m.seconds) * 1000));
  const deadline = performance.now() + 30_000;
  while (conns.some((c) => c.pendingId !== null) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  measuring = null;
  for (const conn of conns) conn.onFrame = null;
  const lat = Float64Array.from(state.latencies).sort();
  const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! : 0);
  const mean = lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : 0;
  return {
    type: 'result',
    ok: lat.length - state.errors,
    calls: lat.length,
    perSecond: (lat.length - state.errors) / m.seconds,
    seconds: m.seconds,
    errors: state.errors,
    samples: state.samples,
    latencyMs: { mean, p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: lat.length ? lat[lat.length - 1]! : 0 },
  };
}

async function close() {
  const closing = conns.map((c) => new Promise<void>((resolve) => {
    if (c.ws.readyState === WebSocket.CLOSED) return resolve();
    c.ws.once('close', () => resolve());
    c.ws.terminate();
  }));
  await Promise.all(closing);
  conns = [];
  return { type: 'closed' };
}

serve({ open, run, close }, async () => { await close(); });
send({ type: 'ready' });
