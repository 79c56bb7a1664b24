import pino from 'pino';

/**
 * The ceilings log like Twofold does (src/app.ts createLogger): pino at the same level with
 * the same redaction paths, to the same kind of destination, so logging costs the same.
 */
export function ceilingLogger(level = process.env.TWOFOLD_LOG_LEVEL ?? 'info') {
  return pino({
    level,
    redact: {
      paths: ['password', '*.password', 'code', '*.code', 'token', '*.token', 'authToken', '*.authToken',
        'req.headers["x-auth-token"]', 'req.headers["x-2fa-code"]', 'req.headers.authorization', 'secret', '*.secret'],
      censor: '[redacted]',
    },
  });
}
