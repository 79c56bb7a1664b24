// Twofold as the bench runs it: `npm start`'s settings-from-environment path in a process
// of its own, reporting its port to the parent. Logging is Twofold's default (info) to
// stdout, which the parent points at a file.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadSettings } from '../src/config/settings.ts';
import { startServer } from '../src/server.ts';
import { send, serve } from './lib/ipc.ts';

const server = await startServer(loadSettings(process.env));
// Event-loop delay seen from inside the server: the direct measure of its health under load.
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const ms = (ns: number) => Math.round(ns / 1e4) / 100;
serve({
  'delay-reset': () => {
    delay.reset();
    return { type: 'delay-reset' };
  },
  delay: () => ({ type: 'delay', p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) }),
}, () => server.close());
send({ type: 'ready', port: server.port, store: server.app.store.kind });
