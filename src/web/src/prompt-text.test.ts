import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countdown, describeRefusal, emailExplanation, lifetimeText, newestExpiry, normalizeCode, waitText } from './prompt-text.ts';

describe('the code prompt in words', () => {
  it('takes dashes and spaces out of typed codes, and keeps a backup code as the server gave it', () => {
    assert.equal(normalizeCode('email', ' 123-456 '), '123456');
    assert.equal(normalizeCode('totp', '123 456'), '123456');
    assert.equal(normalizeCode('backup', ' abcde-fghij '), 'abcde-fghij');
    assert.equal(normalizeCode('password', ' my pass '), ' my pass ');
  });

  it('counts down as a clock reads, and says waits in words', () => {
    assert.equal(countdown(300), '5:00');
    assert.equal(countdown(299.2), '5:00');
    assert.equal(countdown(9), '0:09');
    assert.equal(countdown(0), '0:00');
    assert.equal(countdown(-3), '0:00');
    assert.equal(countdown(3661), '1:01:01');
    assert.equal(waitText(1), '1 second');
    assert.equal(waitText(60), '60 seconds');
    assert.equal(waitText(300), '5 minutes');
    assert.equal(waitText(301), '5 minutes');
    assert.equal(waitText(100), '2 minutes');
    assert.equal(lifetimeText(600), '10 minutes');
    assert.equal(lifetimeText(60), '1 minute');
    assert.equal(lifetimeText(90), '90 seconds');
  });

  it('a wrong code says so with the tries left; the last one says how long the lockout lasts', () => {
    assert.deepEqual(describeRefusal('totp-invalid', { reason: 'wrong', attemptsLeft: 4 }, 'totp'), { text: 'That code is not right. Check it and try again. 4 tries left.' });
    assert.equal(describeRefusal('totp-invalid', { attemptsLeft: 1 }, 'totp')?.text, 'That code is not right. Check it and try again. 1 try left.');
    assert.equal(describeRefusal('totp-invalid', {}, 'totp')?.text, 'That code is not right. Check it and try again.');
    const last = describeRefusal('totp-invalid', { reason: 'wrong', attemptsLeft: 0, retryAfter: 300 }, 'totp');
    assert.equal(last?.text, 'That code is not right, and that was the last try for now. You can try again in 5 minutes.');
    assert.deepEqual(last?.wait, { seconds: 300, kind: 'locked' });
  });

  it('an expired, a used and a burnt code each say what to do next', () => {
    const expired = describeRefusal('totp-invalid', { reason: 'expired', method: 'email' }, 'email');
    assert.equal(expired?.text, 'That code has expired. Ask for a new code.');
    assert.equal(expired?.offerNewCode, true);
    assert.match(describeRefusal('totp-invalid', { reason: 'used' }, 'totp')?.text ?? '', /^That code was already used\. Wait for the next code/);
    assert.equal(describeRefusal('totp-invalid', { reason: 'wrong', codeCount: 0 }, 'email')?.offerNewCode, true);
    assert.equal(describeRefusal('totp-max-attempts', { method: 'email' }, 'email')?.offerNewCode, true);
  });

  it('a backup code that missed is kept in the field for correcting', () => {
    const r = describeRefusal('totp-invalid', { reason: 'wrong' }, 'backup');
    assert.equal(r?.keepInput, true);
    assert.match(r?.text ?? '', /^That backup code is not right, or it was already used/);
    assert.equal(describeRefusal('totp-invalid', { reason: 'wrong' }, 'totp')?.keepInput, undefined);
  });

  it('a lockout and a send limit come with a countdown; a suspension with recovery', () => {
    assert.deepEqual(describeRefusal('totp-max-attempts', { method: 'totp', retryAfter: 125 }, 'totp'),
      { text: 'Too many wrong codes. You can try again in 2 minutes.', wait: { seconds: 125, kind: 'locked' }, keepInput: false });
    assert.deepEqual(describeRefusal('error-too-many-requests', { timeToReset: 42 }, 'email'),
      { text: 'Please wait 42 seconds before asking for another code.', wait: { seconds: 42, kind: 'send' } });
    assert.equal(describeRefusal('error-2fa-suspended', {}, 'totp')?.recover, true);
    assert.equal(describeRefusal('login-failed', {}, 'totp'), null);
  });

  it('the email prompt names where the code went and how long it is good for, from the server', () => {
    assert.equal(emailExplanation({ destination: ['e•••n@example.com'], alreadySent: false, ttlSeconds: 600, secondsLeft: null }),
      'We sent a code to e•••n@example.com. It is valid for 10 minutes.');
    assert.equal(emailExplanation({ destination: null, alreadySent: false, ttlSeconds: 300, secondsLeft: null }),
      'We sent a code to the email address on your account. It is valid for 5 minutes.');
    assert.equal(emailExplanation({ destination: ['a@b.example'], alreadySent: true, ttlSeconds: 600, secondsLeft: 240 }),
      'We already sent a code to a@b.example. Use the newest email, or ask for a new code. The newest code is good for 4 minutes more.');
    assert.equal(emailExplanation({ destination: ['a@b.example'], alreadySent: false, ttlSeconds: 600, secondsLeft: 600, until: '10:42' }),
      'We sent a code to a@b.example. It is valid for 10 minutes, until 10:42.');
    const now = Date.parse('2026-01-01T10:00:00Z');
    assert.equal(newestExpiry(['2026-01-01T10:04:00.000Z', '2026-01-01T10:09:00.000Z', 'nonsense'], now), Date.parse('2026-01-01T10:09:00Z'));
    assert.equal(newestExpiry(['2026-01-01T09:59:00.000Z'], now), null);
    assert.equal(newestExpiry(undefined, now), null);
  });
});
