import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { catalogueEntry, errorCatalogue, errors, TwofoldError, type ErrorCode } from '../core/errors.ts';
import { meteorErrorOf } from './ddp/errors.ts';
import { renderErrorDoc } from './errors-doc.ts';
import { restErrorBody } from './rest/errors.ts';

const codes = Object.keys(errorCatalogue) as ErrorCode[];

describe('error catalogue', () => {
  it('docs/errors.md lists every code of the catalogue (run `npm run docs:errors` after a change)', () => {
    const onDisk = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    assert.equal(onDisk, renderErrorDoc());
    for (const code of codes) assert.match(onDisk, new RegExp(`^\\| \`${code}\` \\|`, 'm'), code);
  });

  it('every code has one factory, named like an identifier, that makes the same error as the constructor', () => {
    const names = new Set<string>();
    for (const code of codes) {
      const { factory } = catalogueEntry(code);
      assert.match(factory, /^[a-z][A-Za-z0-9]*$/, code);
      assert.ok(!names.has(factory), `${factory} is unique`);
      names.add(factory);
      const made = (errors as Record<string, (d?: Record<string, unknown>, r?: string) => TwofoldError>)[factory]!({ x: 1 }, 'why');
      const direct = new TwofoldError(code, { x: 1 }, 'why');
      assert.deepEqual([made.code, made.status, made.reason, made.details, made.message], [direct.code, direct.status, direct.reason, direct.details, direct.message]);
    }
    assert.equal(Object.keys(errors).length, codes.length);
    assert.equal(errors.totpRequired().code, 'totp-required');
    assert.equal(errors.invalidParams().code, 'error-invalid-params');
    assert.equal(errors.schemaRefused().code, 'invalid-params');
  });

  it('REST carries the catalogue status and Rocket.Chat\'s failure body', () => {
    const e = errors.totpInvalid({ method: 'totp' });
    assert.equal(e.status, 400);
    assert.deepEqual(restErrorBody(e), { success: false, error: 'TOTP Invalid [totp-invalid]', errorType: 'totp-invalid', details: { method: 'totp' } });
    assert.deepEqual(restErrorBody(errors.internal()), { success: false, error: 'Internal server error [error-internal]', errorType: 'error-internal' });
    assert.equal(errors.tooManyRequests().status, 429);
  });

  it('DDP sends the Meteor error in the form the catalogue gives: the code with details, or a failed login as Meteor\'s 403 without them', () => {
    assert.deepEqual(meteorErrorOf(errors.totpRequired({ method: 'email' })), {
      isClientSafe: true, error: 'totp-required', reason: 'TOTP Required', details: { method: 'email' },
      message: 'TOTP Required [totp-required]', errorType: 'Meteor.Error',
    });
    assert.deepEqual(meteorErrorOf(errors.loginFailed({ user: 'alice' })), {
      isClientSafe: true, error: 403, reason: 'Incorrect credentials', message: 'Incorrect credentials [403]', errorType: 'Meteor.Error',
    });
  });
});
