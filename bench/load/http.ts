// HTTP load from its own process: autocannon for a fixed time, after a warm-up whose
// numbers are thrown away. With a pool, every request is made as the next user of the
// pool with a second-factor code good for that user now (a code is never sent twice).
import { readFileSync } from 'node:fs';
import autocannon, { type RawRequest, type Result } from 'autocannon';
import { hotp, totpStep } from '../../src/core/twofactor/totp.ts';
import { send, serve } from '../lib/ipc.ts';

export interface PoolUser { userId: string; token: string; secret?: string; code?: string }
/** A user of the peer (better-auth): its session cookie and TOTP secret; the code goes in the body. */
export interface PeerPoolUser { cookie: string; secret: string }

export interface HttpRun {
  type: 'run';
  url: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
  warmup: number;
  overallRate?: number;
  /**
   * `totp`, `email`: Twofold users, each used once (a code is good once). `peer-totp`: users
   * of the peer, taken in turn again and again, since the peer takes a code more than once.
   */
  pool?: { file: string; method: 'totp' | 'email' | 'peer-totp' };
  /**
   * More servers to spread the load over (the PostgreSQL scale phase): `url` and these each
   * get an equal share of the connections, all from this one process and one pool.
   */
  moreUrls?: string[];
}

export interface HttpResult {
  type: 'result';
  ok: number;
  perSecond: number;
  seconds: number;
  non2xx: number;
  errors: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  statuses: Record<string, number>;
  /** First bodies of non-2xx answers, to tell why. */
  samples: string[];
  /** The pool ran out before the time was up; the rate is over the time it lasted. */
  exhausted: boolean;
  poolUsed?: number;
  /** With moreUrls: the successful answers of each server, in the order of the urls. */
  perServer?: number[];
}

async function run(spec: HttpRun): Promise<HttpResult> {
  const pool: (PoolUser | PeerPoolUser)[] | null = spec.pool ? JSON.parse(readFileSync(spec.pool.file, 'utf8')) : null;
  const cycling = spec.pool?.method === 'peer-totp';
  let next = 0;
  const samples: string[] = [];
  let current: ReturnType<typeof autocannon>[] = [];
  // With a pool, successes are counted here: a request after the pool ran out is a harmless
  // GET that must not count, and the rate is over the time until the pool ran out.
  let measuring = false;
  let ok = 0;
  let exhaustedAt: number | null = null;

  const setupRequest = pool
    ? (req: RawRequest, context: Record<string, unknown>): RawRequest => {
      const user = cycling ? pool[next++ % pool.length] : pool[next++];
      context.pooled = user !== undefined && measuring;
      if (!user) {
        exhaustedAt ??= performance.now();
        // Stop once the instance exists (the first requests are built while it is made).
        setImmediate(() => { for (const c of current) c.stop(); });
        return { ...req, method: 'GET', path: '/api/info', headers: { 'user-agent': spec.headers['user-agent'] ?? '' }, body: undefined };
      }
      if ('cookie' in user) {
        return { ...req, headers: { ...spec.headers, cookie: user.cookie }, body: JSON.stringify({ code: hotp(user.secret, totpStep(Date.now())) }) };
      }
      const code = spec.pool!.method === 'totp' ? hotp(user.secret!, totpStep(Date.now())) : user.code!;
      return {
        ...req,
        headers: { ...spec.headers, 'x-user-id': user.userId, 'x-auth-token': user.token, 'x-2fa-code': code, 'x-2fa-method': spec.pool!.method },
      };
    }
    : undefined;
  const urls = [spec.url, ...(spec.moreUrls ?? [])];
  const perServer = urls.map(() => 0);
  const onResponse = (status: number, body: string, context: Record<string, unknown>) => {
    const good = status >= 200 && status <= 299;
    if (context.pooled && good) ok++;
    if (good && (pool ? context.pooled : measuring)) perServer[context.server as number]!++;
    if (!good && samples.length < 3) samples.push(`${status} ${body.slice(0, 300)}`);
  };

  const instance = (url: string, server: number, connections: number, seconds: number) => autocannon({
    url,
    connections,
    duration: seconds,
    overallRate: spec.overallRate,
    // Tells onResponse which server answered.
    initialContext: { server },
    requests: [{ method: spec.method, path: spec.path, headers: spec.headers, body: spec.body, onResponse, ...(setupRequest ? { setupRequest } : {}) }],
  });
  const once = async (seconds: number): Promise<Result> => {
    const share = Math.max(1, Math.floor(spec.connections / urls.length));
    current = urls.map((url, i) => instance(url, i, share, seconds));
    const all = await Promise.all(current.map((c) => Promise.resolve(c)));
    return all.length === 1 ? all[0]! : merge(all);
  };

  if (spec.warmup > 0) await once(spec.warmup);
  if (pool && exhaustedAt !== null) throw new Error(`the pool of ${pool.length} users ran out during the warm-up`);
  measuring = true;
  const startedAt = performance.now();
  const r = await once(spec.seconds);
  const seconds = pool && exhaustedAt !== null ? (exhaustedAt - startedAt) / 1000 : r.duration;
  const good = pool ? ok : r['2xx'];
  const statuses = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, Number((v as { count: number }).count)]));
  return {
    type: 'result',
    ok: good,
    perSecond: good / seconds,
    seconds: Math.round(seconds * 100) / 100,
    non2xx: r.non2xx,
    errors: r.errors,
    latencyMs: { mean: r.latency.mean, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    statuses,
    samples,
    exhausted: exhaustedAt !== null,
    poolUsed: pool ? Math.min(next, pool.length) : undefined,
    ...(urls.length > 1 ? { perServer } : {}),
  };
}

/** Several servers' runs as one: counts add up; of the latencies, the worst server's are kept. */
function merge(all: Result[]): Result {
  const worst = all.reduce((a, b) => (b.latency.p99 > a.latency.p99 ? b : a));
  const statusCodeStats: Record<string, { count: number }> = {};
  for (const r of all) {
    for (const [k, v] of Object.entries(r.statusCodeStats ?? {})) {
      statusCodeStats[k] = { count: (statusCodeStats[k]?.count ?? 0) + Number((v as { count: number }).count) };
    }
  }
  return {
    ...worst,
    '2xx': all.reduce((n, r) => n + r['2xx'], 0),
    non2xx: all.reduce((n, r) => n + r.non2xx, 0),
    errors: all.reduce((n, r) => n + r.errors, 0),
    duration: Math.max(...all.map((r) => r.duration)),
    statusCodeStats,
  } as Result;
}

serve({ run: (m: HttpRun) => run(m) });
send({ type: 'ready' });
