// The child side of the bench's parent/child protocol: one JSON message per IPC send,
// each with a `type`. A child whose parent goes away exits, so no server outlives a run.

/** Any object with a `type`; the rest is the message's own. */
export type Message = { type: string };

export function send<M extends Message>(msg: M): void {
  process.send?.(msg);
}

/**
 * Answers the parent's requests; `rss` is answered for every child so that memory is
 * measured the same way (process.memoryUsage().rss) for Twofold and its ceilings.
 */
export function serve(handlers: Record<string, (msg: any) => Promise<object | void> | object | void>, onStop: () => Promise<void> = async () => {}): void {
  if (!process.send) throw new Error('this file is a bench child: start it through npm run bench');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await onStop();
    } finally {
      process.exit(0); // exits normally, so --cpu-prof writes its profile
    }
  };
  process.on('disconnect', () => void stop());
  process.on('message', async (msg: Message) => {
    if (msg.type === 'stop') return stop();
    if (msg.type === 'rss') return send({ type: 'rss', rss: process.memoryUsage.rss() });
    const handler = handlers[msg.type];
    if (!handler) return send({ type: 'error', message: `unknown request ${msg.type}` });
    try {
      const out = await handler(msg);
      if (out) send(out as Message);
    } catch (e) {
      send({ type: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) });
    }
  });
}
