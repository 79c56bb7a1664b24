import type { AddressInfo } from 'node:net';
import { createApp, type App, type AppOverrides } from './app.ts';
import type { Settings } from './config/settings.ts';
import { buildRegistry } from './operations/index.ts';
import type { Registry } from './operations/registry.ts';
import { createDdpServer, type DdpServer } from './transport/ddp/server.ts';
import { createRestServer } from './transport/rest/server.ts';
import { purgeExpiredEmailVerifications } from './store/email-verifications.ts';

export interface RunningServer {
  app: App;
  registry: Registry;
  ddp: DdpServer;
  port: number;
  url: string;
  /** The hourly clean-up of expired rows and old audit events, run now. */
  purgeExpired(): Promise<void>;
  /** Graceful: stop accepting, finish calls in flight, close sockets, close the store. */
  close(): Promise<void>;
}

export async function startServer(settings: Settings, overrides: AppOverrides = {}): Promise<RunningServer> {
  const app = await createApp(settings, overrides);
  const registry = buildRegistry();
  let inFlight = 0;
  let drained: (() => void) | null = null;
  const track = async <T>(work: () => Promise<T>): Promise<T> => {
    inFlight++;
    try {
      return await work();
    } finally {
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  };
  const rest = createRestServer({ app, registry, track });
  const ddp = createDdpServer({ app, registry, track });
  ddp.attach(rest.server);
  await rest.listen({ port: settings.port, host: settings.host });
  const port = (rest.server.address() as AddressInfo).port;
  app.settings.port = port;
  const url = app.publicUrl();
  app.log.info({ url, ddp: `${url.replace(/^http/, 'ws')}/websocket`, store: app.store.kind }, 'Twofold is listening');

  // Expired rows are never valid (every read checks expiry); purging only keeps tables small.
  const purge = async () => {
    const now = app.clock.now();
    try {
      await app.store.tokens.purgeExpired(now);
      await app.store.devices.purgeExpired(now);
      await app.store.twoFactor.purgeExpired(now, app.settings.failureWindow * 1000);
      await purgeExpiredEmailVerifications(app.store.db, now);
      await app.store.webauthn.purgeExpired(now);
      if (app.settings.auditRetentionDays > 0) await app.store.audit.purgeBefore(now - app.settings.auditRetentionDays * 86_400_000);
    } catch (err) {
      app.log.warn({ err }, 'purging expired rows failed; will retry');
    }
  };
  const purgeTimer = setInterval(purge, 3600_000);
  purgeTimer.unref();

  let closed: Promise<void> | null = null;
  return {
    app, registry, ddp, port, url,
    purgeExpired: purge,
    close() {
      closed ??= (async () => {
        clearInterval(purgeTimer);
        const deadline = new Promise<void>((r) => setTimeout(r, settings.shutdownTimeout * 1000).unref());
        const idle = inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => { drained = r; });
        const ddpClosed = ddp.close();
        await Promise.race([Promise.all([idle, ddpClosed, rest.close()]), deadline]);
        await app.close();
      })();
      return closed;
    },
  };
}
