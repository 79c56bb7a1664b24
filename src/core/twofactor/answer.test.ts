import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTwofoldError } from '../errors.ts';
import { MAX_ANSWER_LENGTH, parseAnswer } from './answer.ts';
import { METHODS, methodFor } from './methods/index.ts';
import { MAX_WEBAUTHN_ANSWER_LENGTH } from './methods/webauthn.ts';
import { METHOD_NAMES } from './types.ts';

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isTwofoldError(e) ? e.code : 'not a TwofoldError';
  }
  return 'accepted';
};

describe('parseAnswer: one rule for what every transport received', () => {
  it('takes a code as a string or a whole number, and a known method name', () => {
    assert.deepEqual(parseAnswer({ code: '123456', method: 'email' }), { code: '123456', method: 'email' });
    assert.deepEqual(parseAnswer({ code: 56830, method: 'totp' }), { code: '56830', method: 'totp' });
    assert.deepEqual(parseAnswer({}), { code: undefined, method: undefined });
  });

  it('refuses a code of the wrong type or longer than the limit with error-invalid-params', () => {
    for (const code of [{ $ne: '' }, null, -1, 1.5, true, 'x'.repeat(MAX_ANSWER_LENGTH + 1)]) {
      assert.equal(refusal(() => parseAnswer({ code })), 'error-invalid-params', JSON.stringify(code));
    }
    assert.equal(refusal(() => parseAnswer({ code: 'x'.repeat(MAX_ANSWER_LENGTH) })), 'accepted');
  });

  it('only a passkey answer (method webauthn) may be as long as an assertion', () => {
    const assertion = 'x'.repeat(MAX_WEBAUTHN_ANSWER_LENGTH);
    assert.equal(refusal(() => parseAnswer({ code: assertion, method: 'webauthn' })), 'accepted');
    assert.equal(refusal(() => parseAnswer({ code: `${assertion}x`, method: 'webauthn' })), 'error-invalid-params');
    for (const method of ['totp', 'email', 'password', undefined]) {
      assert.equal(refusal(() => parseAnswer({ code: 'x'.repeat(MAX_ANSWER_LENGTH + 1), method })), 'error-invalid-params', String(method));
    }
  });

  it('an unknown method name is refused or, where the transport says so, taken as none', () => {
    for (const method of ['sms', 'PASSWORD', '', null, 3]) {
      assert.equal(refusal(() => parseAnswer({ code: '1', method })), 'error-invalid-params', String(method));
    }
  });
});

describe('second-factor methods as modules', () => {
  it('every protocol method name has a module, and an 8-character totp code goes to the backup codes', () => {
    for (const name of METHOD_NAMES) assert.ok(METHODS.some((m) => m.answers === name), name);
    assert.equal(methodFor('totp', '123456').name, 'totp');
    assert.equal(methodFor('totp', 'abcd2345').name, 'backup-code');
    assert.equal(methodFor('email', 'abcd2345').name, 'email');
    assert.equal(methodFor('password', 'a'.repeat(64)).name, 'password');
  });
});
