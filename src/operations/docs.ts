import { z } from 'zod';
import type { Registry } from './registry.ts';

const policyText = (p: unknown) => (typeof p === 'function' ? 'depends (see summary / settings)' : String(p));

function inputText(schema: z.ZodType): string {
  try {
    const json = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
    delete json.$schema;
    return `\`${JSON.stringify(json)}\``;
  } catch {
    return '(see source)';
  }
}

/** docs/api.md: every operation of the registry with its REST route, DDP method and rules. */
export function renderApiDoc(registry: Registry): string {
  const lines = [
    '# API',
    '',
    'Generated from the operation registry (`src/operations/`) by `npm run docs:api`; a test checks that this page matches it.',
    'Each operation is declared once and bound to REST and/or DDP; both transports apply the same login rule, input schema and second-factor policy.',
    '',
    '- **auth**: `none` (anyone), `optional` (a login changes the answer), `user` (logged in), `admin`.',
    '- **2FA**: `none`, `ask` (a remembered success passes), `always` (ignores a remembered success), `code-argument` (the code is a parameter of the operation, checked every time, like `2fa:disable(code)`). On REST send `x-2fa-code` and `x-2fa-method`; on DDP append `{twoFactorCode, twoFactorMethod}` or use `callWithTwoFactorRequired`.',
    '- REST auth headers: `X-User-Id`, `X-Auth-Token`. Errors: `{"success":false,"error":"<reason> [<code>]","errorType":"<code>","details":{…}}`; DDP errors are Meteor errors with the same code.',
    '',
    '| operation | REST | DDP | auth | 2FA | summary |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  const ops = registry.all().slice().sort((a, b) => a.name.localeCompare(b.name));
  for (const op of ops) {
    const restText = op.rest ? `\`${[op.rest.method].flat().join('/')} ${op.rest.path}\`` : '—';
    const ddpText = op.ddp ? `\`${op.ddp.name}\`` : '—';
    lines.push(`| \`${op.name}\` | ${restText} | ${ddpText} | ${op.auth} | ${policyText(op.twoFactor)} | ${op.summary.replace(/\|/g, '\\|')} |`);
  }
  lines.push('', '## Inputs', '', 'JSON Schema of each operation\'s input (the REST body or query; DDP params are mapped onto it).', '');
  for (const op of ops) lines.push(`- \`${op.name}\`: ${inputText(op.input)}`);
  lines.push('', 'Also: `GET /api/info` → `{"version": "…", "emailCodeTtl": 600, "success": true}` (no login; `emailCodeTtl` is the lifetime of an emailed code in seconds).', '');
  return lines.join('\n');
}
