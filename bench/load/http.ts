// HTTP load from its own process: autocannon for a fixed time, after a warm-up whose
// numbers are thrown away. With a pool, every request is made as the next user of the
// pool with a second-factor code good for that user now (a code is never sent twice).
import { readFileSync } from 'node:fs';
import autocannon, { type RawRequest, type Result } from 'autocannon';
import { hotp, totpStep } from '../../src/core/twofactor/totp.ts';
import { send, serve } from '../lib/ipc.ts';

export interface PoolUser { userId: string; token: string; secret?: string; code?: string }

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
  pool?: { file: string; method: 'totp' | 'email' };
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
}

async function run(spec: HttpRun): Promise<HttpResult> {
  const pool: PoolUser[] | null = spec.pool ? JSON.parse(readFileSync(spec.pool.file, 'utf8')) : null;
  let next = 0;
  const samples: string[] = [];
  let current: ReturnType<typeof autocannon> | null = null;
  // With a pool, successes are counted here: a request after the pool ran out is a harmless
  // GET that must not count, and the rate is over the time until the pool ran out.
  let measuring = false;
  let ok = 0;
  let exhaustedAt: number | null = null;

  const setupRequest = pool
    ? (req: RawRequest, context: Record<string, unknown>): RawRequest => {
      const user = pool[next++];
      context.pooled = user !== undefined && measuring;
      if (!user) {
        exhaustedAt ??= performance.now();
        // Stop once the instance exists (the first requests are built while it is made).
        setImmediate(() => current?.stop());
        return { ...req, method: 'GET', path: '/api/info', headers: { 'user-agent': spec.headers['user-agent'] ?? '' }, body: undefined };
      }
      const code = spec.pool!.method === 'totp' ? hotp(user.secret!, totpStep(Date.now())) : user.code!;
      return {
        ...req,
        headers: { ...spec.headers, 'x-user-id': user.userId, 'x-auth-token': user.token, 'x-2fa-code': code, 'x-2fa-method': spec.pool!.method },
      };
    }
    : undefined;
  const onResponse = (status: number, body: string, context: Record<string, unknown>) => {
    const good = status >= 200 && status <= 299;
    if (context.pooled && good) ok++;
    if (!good && samples.length < 3) samples.push(`${status} ${body.slice(0, 300)}`);
  };

  const once = (seconds: number): Promise<Result> => {
    current = autocannon({
      url: spec.url,
      connections: spec.connections,
      duration: seconds,
      overallRate: spec.overallRate,
      requests: [{ method: spec.method, path: spec.path, headers: spec.headers, body: spec.body, onResponse, ...(setupRequest ? { setupRequest } : {}) }],
    });
    return Promise.resolve(current);
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
  };
}

serve({ run: (m: HttpRun) => run(m) });
send({ type: 'ready' });
