// Ceiling B: a bare `ws` server that speaks just enough DDP — connect, ping, and a method
// answered with `result` + `updated` — logging one line per method like Twofold does.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { send, serve } from '../lib/ipc.ts';
import { ceilingLogger } from './logger.ts';

const log = ceilingLogger();
const http = createServer((_req, res) => res.writeHead(404).end());
// Same frame limit as Twofold's default TWOFOLD_MAX_FRAME_BYTES.
const wss = new WebSocketServer({ noServer: true, maxPayload: 102_400 });
http.on('upgrade', (req, socket, head) => {
  if ((req.url ?? '').split('?')[0] !== '/websocket') return socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

wss.on('connection', (ws) => {
  ws.send('{"server_id":"0"}');
  ws.on('message', (data) => {
    let f: { msg?: unknown; id?: unknown; method?: unknown };
    try {
      f = JSON.parse(data.toString());
    } catch {
      return ws.send(JSON.stringify({ msg: 'error', reason: 'Bad request: not JSON' }));
    }
    switch (f.msg) {
      case 'connect':
        return ws.send(JSON.stringify({ msg: 'connected', session: randomBytes(12).toString('base64url') }));
      case 'ping':
        return ws.send(JSON.stringify(typeof f.id === 'string' ? { msg: 'pong', id: f.id } : { msg: 'pong' }));
      case 'method': {
        const started = performance.now();
        ws.send(JSON.stringify({ msg: 'result', id: f.id, result: { ok: true } }));
        ws.send(JSON.stringify({ msg: 'updated', methods: [f.id] }));
        log.info({ ddp: f.method, ms: Math.round(performance.now() - started), outcome: 'ok' }, 'method');
      }
    }
  });
});

await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
serve({}, async () => {
  for (const ws of wss.clients) ws.terminate();
  await new Promise((r) => http.close(r));
});
const address = http.address();
send({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
