// docs/errors.md, generated from the catalogue (src/core/errors.ts) through the transports'
// own renderers, so the page shows the bytes a client receives.

import { catalogueEntry, errorCatalogue, errors, type ErrorCode } from '../core/errors.ts';
import { meteorErrorOf } from './ddp/errors.ts';
import { restErrorBody } from './rest/errors.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function renderErrorDoc(): string {
  const sample = errors.totpRequired({ method: 'email', codeGenerated: true, emailOrUsername: 'alice' });
  const lines = [
    '# Errors',
    '',
    'Generated from the error catalogue (`src/core/errors.ts`) by `npm run docs:errors`; a test checks that this page matches it.',
    'Every error has a stable code (Rocket.Chat\'s own where it has one), a reason, an HTTP status for REST and a form on DDP.',
    'In the code an error is made with its named factory, `errors.totpRequired(details)`, or `new TwofoldError(\'totp-required\', details)`; a call site may give its own reason and, where a client expects it, another status.',
    '',
    '## On REST',
    '',
    'Rocket.Chat\'s `API.v1.failure` body, with the status below; `details` travel when the error has them. For example `totp-required`:',
    '',
    '```json',
    JSON.stringify(restErrorBody(sample)),
    '```',
    '',
    'Limit errors also send `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (epoch ms) and `Retry-After` (seconds).',
    'The REST login answers in Rocket.Chat\'s login shape instead (401 `{"status":"error", …}`); see [api.md](api.md).',
    '',
    '## On DDP',
    '',
    'A Meteor error in the `result` frame of the method: `error` is the code unless the table says otherwise, `details` travel unless the table says not. The same example:',
    '',
    '```json',
    JSON.stringify({ msg: 'result', id: '1', error: meteorErrorOf(sample) }),
    '```',
    '',
    'Outside the catalogue, DDP itself answers a method frame whose `method` is not a string with `{"error":400,"reason":"Match failed"}`, and a `sub` to an unknown name with `nosub` and error 404.',
    '',
    '## Catalogue',
    '',
    '| code | HTTP | DDP `error` | details on DDP | factory | reason |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const code of Object.keys(errorCatalogue) as ErrorCode[]) {
    const e = catalogueEntry(code);
    const ddpError = e.ddp.error === code ? 'the code' : `\`${JSON.stringify(e.ddp.error)}\``;
    lines.push(`| \`${code}\` | ${e.status} | ${ddpError} | ${e.ddp.details ? 'yes' : 'no'} | \`errors.${e.factory}\` | ${cell(e.reason)} |`);
  }
  lines.push('');
  return lines.join('\n');
}
