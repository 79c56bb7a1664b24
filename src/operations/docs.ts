import { z } from 'zod';
import { callWithTwoFactorEnvelope as envelope } from './call-with-two-factor.ts';
import { DEP_NAMES } from './deps.ts';
import type { Registry, SecondFactorRule } from './registry.ts';

const ruleText = (rule: SecondFactorRule) => (rule.kind === 'depends' ? 'depends (see summary / settings)'
  : rule.kind === 'code-argument' && rule.byEmail ? 'code-argument, or an emailed code' : rule.kind);

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
    '- **2FA**: `none`, `ask` (a remembered success passes), `always` (ignores a remembered success), `code-argument` (the code is a parameter of the operation, checked every time, like `2fa:disable(code)`; where it says *or an emailed code*, a user with email codes on may name the email method instead: `x-2fa-method: email` / `twoFactorMethod: \'email\'` with the emailed code, or without one to have it mailed), `login` (the sign-in: after the password, when the user has a method; never for a resume). On REST send `x-2fa-code` and `x-2fa-method`; on DDP append `{twoFactorCode, twoFactorMethod}` or use `callWithTwoFactorRequired`.',
    `- **uses**: all the operation's code may touch, declared with it (each name is described in \`src/operations/deps.ts\`): ${DEP_NAMES.map((n) => `\`${n}\``).join(', ')}.`,
    '- REST auth headers: `X-User-Id`, `X-Auth-Token`. Errors: `{"success":false,"error":"<reason> [<code>]","errorType":"<code>","details":{…}}`; DDP errors are Meteor errors with the same code.',
    '',
    '| operation | REST | DDP | auth | 2FA | uses | summary |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  // callWithTwoFactorRequired is an envelope the DDP transport unwraps, listed among the operations.
  const rows = [
    ...registry.all().map((op) => ({
      name: op.name, rest: op.rest ? `\`${[op.rest.method].flat().join('/')} ${op.rest.path}\`` : '—', ddp: op.ddp ? `\`${op.ddp.name}\`` : '—',
      auth: op.auth, rule: ruleText(op.secondFactor), uses: op.uses.length ? op.uses.join(', ') : '—', summary: op.summary, input: op.input as z.ZodType,
    })),
    {
      name: envelope.ddpName, rest: '—', ddp: `\`${envelope.ddpName}\``, auth: envelope.auth, rule: 'always (for the wrapped method)', uses: 'the wrapped method\'s',
      summary: envelope.summary, input: envelope.input,
    },
  ].sort((a, b) => a.name.localeCompare(b.name));
  for (const r of rows) lines.push(`| \`${r.name}\` | ${r.rest} | ${r.ddp} | ${r.auth} | ${r.rule} | ${r.uses} | ${r.summary.replace(/\|/g, '\\|')} |`);
  lines.push('', '## Inputs', '', 'JSON Schema of each operation\'s input (the REST body or query; DDP params are mapped onto it).', '');
  for (const r of rows) lines.push(`- \`${r.name}\`: ${inputText(r.input)}`);
  lines.push('', 'Also: `GET /api/info` → `{"version": "…", "emailCodeTtl": 600, "rememberDeviceDays": 30, "success": true}` (no login; `emailCodeTtl` is the lifetime of an emailed code in seconds, `rememberDeviceDays` how long "remember this device" lasts, 0 when it is off).', '');
  return lines.join('\n');
}
