import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import { loadSettings } from '../src/config/settings.ts';
import { rest } from './helpers/rest.ts';
import { startTestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

describe('audit retention', () => {
  it('keeps a year of audit events by default', () => {
    assert.equal(loadSettings({}).auditRetentionDays, 365);
  });

  for (const store of storesUnderTest) {
    it(`the hourly clean-up deletes events older than TWOFOLD_AUDIT_RETENTION_DAYS and keeps the rest (${store})`, async () => {
      const clock = new FakeClock();
      const t = await startTestServer({ store, clock, settings: { auditRetentionDays: 30 } });
      try {
        const user = await t.addUser({ username: 'rita', password: 'rita pw' });
        const failedLogin = () => rest(t.url, 'POST', '/api/v1/login', { body: { user: 'rita', password: 'wrong' } });
        await failedLogin();
        clock.advance(20 * 86_400);
        await failedLogin();
        clock.advance(11 * 86_400);
        const before = await t.server.app.store.audit.list({ offset: 0, count: 100, userId: user.id });
        assert.equal(before.total, 2);
        await t.server.purgeExpired();
        const after = await t.server.app.store.audit.list({ offset: 0, count: 100, userId: user.id });
        assert.equal(after.total, 1, 'the 31-day-old event is gone, the 11-day-old one stays');
        assert.equal(after.events[0]!.at, before.events[0]!.at);
      } finally {
        await t.close();
      }
    });
  }

  it('0 keeps events forever', async () => {
    const clock = new FakeClock();
    const t = await startTestServer({ clock, settings: { auditRetentionDays: 0 } });
    try {
      const user = await t.addUser({ username: 'sam', password: 'sam pw' });
      await rest(t.url, 'POST', '/api/v1/login', { body: { user: 'sam', password: 'wrong' } });
      clock.advance(4000 * 86_400);
      await t.server.purgeExpired();
      assert.equal((await t.server.app.store.audit.list({ offset: 0, count: 10, userId: user.id })).total, 1);
    } finally {
      await t.close();
    }
  });
});
