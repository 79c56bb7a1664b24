// Issue 14 §6 end to end: backup codes as a person types them, at sign-in over REST and DDP,
// and the 8-character codes of earlier versions still accepted until used or regenerated.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import { hashBackupCode } from '../src/core/twofactor/backup-codes.ts';
import { ddpError, DdpTestClient } from './helpers/ddp.ts';
import { rest, restLogin } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';
import { BACKUP_CODE, enrolOverRest } from './helpers/totp.ts';

for (const store of storesUnderTest) {
  describe(`backup codes people can type (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    before(async () => { t = await startTestServer({ store, clock }); });
    after(() => t?.close());

    const loginWith = (user: string, password: string, code: string) =>
      rest(t.url, 'POST', '/api/v1/login', { body: { user, password, code } });

    it('over REST a code signs in typed in capitals, without the dash, or spaced, and only once', async () => {
      await t.addUser({ username: 'kit', password: 'kit pw' });
      const { codes } = await enrolOverRest(t.url, await restLogin(t.url, 'kit', 'kit pw'), clock);
      assert.equal(codes.length, 12);
      for (const c of codes) assert.match(c, BACKUP_CODE);
      const [a, b, c] = codes as [string, string, string];
      assert.equal((await loginWith('kit', 'kit pw', a.toUpperCase())).status, 200);
      assert.equal((await loginWith('kit', 'kit pw', b.replace('-', ''))).status, 200);
      assert.equal((await loginWith('kit', 'kit pw', ` ${c.replace('-', ' - ')} `)).status, 200);
      const again = await loginWith('kit', 'kit pw', a);
      assert.equal(again.status, 401);
      assert.equal(again.body.error, 'totp-invalid');
      const auth = await restLogin(t.url, 'kit', 'kit pw', codes[3]);
      assert.equal((await rest(t.url, 'GET', '/api/v1/users.totp.codesRemaining', { auth })).body.remaining, 8);
    });

    it('over DDP a code answers the login challenge in any case', async () => {
      await t.addUser({ username: 'dee', password: 'dee pw' });
      const { codes } = await enrolOverRest(t.url, await restLogin(t.url, 'dee', 'dee pw'), clock);
      const ddp = await DdpTestClient.open(t.wsUrl);
      assert.equal((await ddpError(ddp.loginWithPassword('dee', 'dee pw'))).error, 'totp-required');
      const result = await ddp.loginWithPassword('dee', 'dee pw', codes[0]!.toUpperCase().replace('-', ''));
      assert.equal(typeof result.token, 'string');
      ddp.close();
    });

    it('an 8-character code from before the change still signs in, exactly as issued, once', async () => {
      const user = await t.addUser({ username: 'old', password: 'old pw' });
      await enrolOverRest(t.url, await restLogin(t.url, 'old', 'old pw'), clock);
      const legacy = 'Xk7PqR2m';
      const { app } = t.server;
      await app.store.twoFactor.replaceBackupCodes(user.id, [hashBackupCode(app.keys, user.id, legacy)]);
      assert.equal((await loginWith('old', 'old pw', legacy.toLowerCase())).body.error, 'totp-invalid', 'old codes keep their case');
      assert.equal((await loginWith('old', 'old pw', legacy)).status, 200);
      assert.equal((await loginWith('old', 'old pw', legacy)).body.error, 'totp-invalid');
    });
  });
}
