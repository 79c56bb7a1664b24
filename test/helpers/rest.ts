export interface RestResponse {
  status: number;
  body: any;
  headers: Headers;
}

/** JSON over real HTTP. */
export async function rest(base: string, method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; auth?: { userId: string; authToken: string } } = {}): Promise<RestResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
  if (opts.auth) {
    headers['x-user-id'] = opts.auth.userId;
    headers['x-auth-token'] = opts.auth.authToken;
  }
  const res = await fetch(`${base}${path}`, {
    method, headers, body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: any = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body, headers: res.headers };
}

/** One REST login attempt (with the second-factor code in the body when given), whatever its answer. */
export function loginAttempt(base: string, user: string, password: string, code?: string): Promise<RestResponse> {
  return rest(base, 'POST', '/api/v1/login', { body: code === undefined ? { user, password } : { user, password, code } });
}

/** Logs in over REST and returns the auth headers' values; a refusal throws. */
export async function restLogin(base: string, user: string, password: string, code?: string): Promise<{ userId: string; authToken: string }> {
  const res = await loginAttempt(base, user, password, code || undefined);
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { userId: res.body.data.userId, authToken: res.body.data.authToken };
}
