import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEvent, ClientInfo } from '../audit.ts';
import { TwofoldError } from '../errors.ts';
import { checkSecondFactor } from './engine.ts';
import { engineWorld, rejection } from './testing.ts';

const client: ClientInfo = { transport: 'ddp', address: '192.0.2.7' };

function recordingWorld() {
  const w = engineWorld();
  const events: AuditEvent[] = [];
  const sends: { userId: string; client: ClientInfo | undefined }[] = [];
  let refuse = false;
  w.deps.audit = async (e) => { events.push(e); };
  w.deps.limits = {
    async takeCodeSend(userId, c) {
      sends.push({ userId, client: c });
      if (refuse) throw new TwofoldError('error-too-many-requests', { timeToReset: 42 });
    },
  };
  return { ...w, events, sends, refuseSends: () => { refuse = true; } };
}

describe('2FA engine: audit events and send limits through its deps', () => {
  it('tells the audit trail of a sent code, a failure, a success and a replay, each with the call\'s client', async () => {
    const w = recordingWorld();
    const mailUser = w.user({ email2faEnabled: true });
    await rejection(checkSecondFactor(w.deps, { user: mailUser, purpose: 'login', policy: 'always', client }));
    await rejection(checkSecondFactor(w.deps, { user: mailUser, purpose: 'login', policy: 'always', code: '000000', client }));
    await checkSecondFactor(w.deps, { user: mailUser, purpose: 'login', policy: 'always', code: w.lastCode(mailUser), client });
    const { user, code } = w.totpUser();
    await checkSecondFactor(w.deps, { user, purpose: 'login', policy: 'always', code: code(), client });
    await rejection(checkSecondFactor(w.deps, { user, purpose: 'login', policy: 'always', code: code(), client }));
    assert.deepEqual(w.events.map((e) => [e.event, e.method]), [
      ['code-sent', 'email'], ['2fa-failure', 'email'], ['2fa-success', 'email'], ['2fa-success', 'totp'], ['totp-replay', 'totp'], ['2fa-failure', 'totp'],
    ]);
    for (const e of w.events) assert.deepEqual(e.client, client);
    assert.ok(!JSON.stringify(w.events).includes(w.lastCode(mailUser)), 'no code in an event');
  });

  it('asks the limiter before every automatic send, and mails nothing when it refuses', async () => {
    const w = recordingWorld();
    const user = w.user({ email2faEnabled: true });
    w.refuseSends();
    const e = await rejection(checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask', client }));
    assert.equal(e.code, 'error-too-many-requests');
    assert.deepEqual(w.sends, [{ userId: user.id, client }]);
    assert.equal(w.sent.length, 0);
    assert.equal((await w.store.liveEmailCodes(user.id, w.clock.now())).length, 0);
  });

  it('a live code means no send at all, so the limiter is not asked', async () => {
    const w = recordingWorld();
    const user = w.user({ email2faEnabled: true });
    await rejection(checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask', client }));
    await rejection(checkSecondFactor(w.deps, { user, purpose: 'call', policy: 'ask', client }));
    assert.equal(w.sends.length, 1);
  });

  it('a lockout is an event with its reason', async () => {
    const w = recordingWorld();
    const { user } = w.totpUser();
    for (let i = 0; i < w.settings.failureLimit; i++) await rejection(checkSecondFactor(w.deps, { user, purpose: 'login', policy: 'always', code: '000000', client }));
    const locked = await rejection(checkSecondFactor(w.deps, { user, purpose: 'login', policy: 'always', code: '000000', client }));
    assert.equal(locked.code, 'totp-max-attempts');
    assert.deepEqual(w.events.at(-1), { event: 'lockout', userId: user.id, method: 'totp', details: { reason: 'failure-window' }, client });
  });
});
