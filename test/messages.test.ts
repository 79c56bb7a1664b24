// The messaging domain the seeds' examples call, over DDP and REST: who may do what, the
// Rocket.Chat shapes, and the setting that makes message operations ask for a second factor.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { User } from '../src/core/accounts.ts';
import { FakeClock } from '../src/core/clock.ts';
import { issueLoginToken } from '../src/operations/shared/accounts.ts';
import { ddpError, DdpTestClient } from './helpers/ddp.ts';
import { emailUserSession, mailedCode } from './helpers/realtime.ts';
import { rest } from './helpers/rest.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { storesUnderTest } from './helpers/stores.ts';

interface Member {
  user: User;
  ddp: DdpTestClient;
  auth: { userId: string; authToken: string };
}

async function member(t: TestServer, username: string, opts: { admin?: boolean } = {}): Promise<Member> {
  const { user, ddp, token } = await emailUserSession(t, username, { ...opts, email2fa: false });
  return { user, ddp, auth: { userId: user.id, authToken: token } };
}

for (const store of storesUnderTest) {
  describe(`messaging over DDP and REST (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    let amy: Member; let bob: Member; let cat: Member; let root: Member;
    let rid: string;

    before(async () => {
      t = await startTestServer({ store, clock });
      amy = await member(t, 'amy');
      bob = await member(t, 'bob');
      cat = await member(t, 'cat');
      root = await member(t, 'root', { admin: true });
    });
    after(async () => {
      for (const m of [amy, bob, cat, root]) m.ddp.close();
      await t.close();
    });

    it('createChannel(name, members) answers {rid, name}; the creator and the listed users are members', async () => {
      const created = await amy.ddp.call('createChannel', 'general', ['bob']);
      assert.deepEqual(Object.keys(created).sort(), ['name', 'rid']);
      assert.equal(created.name, 'general');
      rid = created.rid;
      assert.match(rid, /^[A-Za-z0-9]{17}$/);
      assert.equal((await amy.ddp.call('sendMessage', { rid, msg: 'hello' })).msg, 'hello');
      assert.equal((await bob.ddp.call('sendMessage', { rid, msg: 'hi amy' })).msg, 'hi amy');
      const refused = await ddpError(cat.ddp.call('sendMessage', { rid, msg: 'let me in' }));
      assert.equal(refused.error, 'error-not-allowed');
    });

    it('channel names are unique and checked; unknown members and read-only channels are refused', async () => {
      assert.equal((await ddpError(bob.ddp.call('createChannel', 'general', []))).error, 'error-duplicate-channel-name');
      assert.equal((await ddpError(bob.ddp.call('createChannel', 'has space', []))).error, 'error-invalid-params');
      assert.equal((await ddpError(bob.ddp.call('createChannel', 'x'.repeat(65), []))).error, 'error-invalid-params');
      assert.equal((await ddpError(bob.ddp.call('createChannel', 'ghosts', ['nobody']))).error, 'error-invalid-user');
      assert.equal((await ddpError(bob.ddp.call('createChannel', 'quiet', [], true))).error, 'error-invalid-params');
      assert.equal((await ddpError(bob.ddp.call('createChannel'))).error, 'error-parameter-required');
      const anonymous = await DdpTestClient.open(t.wsUrl);
      assert.equal((await ddpError(anonymous.call('createChannel', 'anon', []))).error, 'error-invalid-user');
      anonymous.close();
    });

    it('REST channels.create answers the channel in Rocket.Chat shape', async () => {
      const res = await rest(t.url, 'POST', '/api/v1/channels.create', { auth: bob.auth, body: { name: 'bobs-place', members: ['amy'] } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.success, true);
      const { channel } = res.body;
      assert.equal(channel.name, 'bobs-place');
      assert.equal(channel.t, 'c');
      assert.deepEqual(channel.u, { _id: bob.user.id, username: 'bob' });
      assert.equal(channel.usersCount, 2);
      assert.equal(channel.ts, new Date(clock.now()).toISOString());
      const dup = await rest(t.url, 'POST', '/api/v1/channels.create', { auth: bob.auth, body: { name: 'bobs-place' } });
      assert.equal(dup.status, 400);
      assert.equal(dup.body.errorType, 'error-duplicate-channel-name');
      assert.equal((await rest(t.url, 'POST', '/api/v1/channels.create', { body: { name: 'anon' } })).status, 401);
    });

    it('a non-member joins with joinRoom or channels.join and may post from then on', async () => {
      assert.equal(await cat.ddp.call('joinRoom', rid), true);
      assert.equal((await cat.ddp.call('sendMessage', { rid, msg: 'hello all' })).msg, 'hello all');
      const { rid: other } = await amy.ddp.call('createChannel', 'side', []);
      const joined = await rest(t.url, 'POST', '/api/v1/channels.join', { auth: cat.auth, body: { roomId: other } });
      assert.equal(joined.status, 200);
      assert.equal(joined.body.channel._id, other);
      assert.equal(joined.body.channel.usersCount, 2);
      assert.equal((await ddpError(cat.ddp.call('joinRoom', 'NoSuchRoom123'))).error, 'error-room-not-found');
    });

    it('sendMessage answers the message in Rocket.Chat shape, with the _id the client chose', async () => {
      clock.advance(1);
      const m = await amy.ddp.call('sendMessage', { _id: 'ClientChosenId0001', rid, msg: 'mine' });
      assert.deepEqual(m, {
        _id: 'ClientChosenId0001', rid, msg: 'mine', ts: { $date: clock.now() },
        u: { _id: amy.user.id, username: 'amy', name: 'amy' }, _updatedAt: { $date: clock.now() },
      });
      assert.equal((await ddpError(amy.ddp.call('sendMessage', { _id: 'ClientChosenId0001', rid, msg: 'again' }))).error, 'error-message-already-exists');
      assert.equal((await ddpError(amy.ddp.call('sendMessage', { _id: '../etc', rid, msg: 'x' }))).error, 'error-invalid-params');
      assert.equal((await ddpError(amy.ddp.call('sendMessage', { rid, msg: '' }))).error, 'error-invalid-params');
      assert.equal((await ddpError(amy.ddp.call('sendMessage', { rid, msg: 'x', t: 'rm' }))).error, 'error-invalid-params');
      assert.equal((await ddpError(amy.ddp.call('sendMessage', { rid: 'NoSuchRoom123', msg: 'x' }))).error, 'error-room-not-found');

      const viaRest = await rest(t.url, 'POST', '/api/v1/chat.sendMessage', { auth: bob.auth, body: { message: { rid, msg: 'over REST' } } });
      assert.equal(viaRest.status, 200);
      assert.equal(viaRest.body.success, true);
      assert.equal(viaRest.body.message.msg, 'over REST');
      assert.equal(viaRest.body.message.ts, new Date(clock.now()).toISOString());
      assert.deepEqual(viaRest.body.message.u, { _id: bob.user.id, username: 'bob', name: 'bob' });
    });

    it('a message longer than TWOFOLD_MESSAGE_MAX_LENGTH (default 5000) is refused', async () => {
      assert.equal(t.server.app.settings.messageMaxLength, 5000);
      assert.equal((await amy.ddp.call('sendMessage', { rid, msg: 'a'.repeat(5000) })).msg.length, 5000);
      const e = await ddpError(amy.ddp.call('sendMessage', { rid, msg: 'a'.repeat(5001) }));
      assert.equal(e.error, 'error-message-size-exceeded');
      assert.deepEqual(e.details, { maxLength: 5000 });
    });

    it('only the author or an admin may edit; updateMessage {_id, rid, msg} and REST chat.update', async () => {
      const m = await bob.ddp.call('sendMessage', { rid, msg: 'typo' });
      clock.advance(5);
      assert.equal((await ddpError(amy.ddp.call('updateMessage', { _id: m._id, rid, msg: 'hijack' }))).error, 'error-action-not-allowed');
      const edited = await bob.ddp.call('updateMessage', { _id: m._id, rid, msg: 'fixed' });
      assert.equal(edited.msg, 'fixed');
      assert.deepEqual(edited.editedBy, { _id: bob.user.id, username: 'bob' });
      assert.deepEqual(edited.editedAt, { $date: clock.now() });
      assert.deepEqual(edited._updatedAt, { $date: clock.now() });
      assert.deepEqual(edited.ts, m.ts);

      const byAdmin = await rest(t.url, 'POST', '/api/v1/chat.update', { auth: root.auth, body: { roomId: rid, msgId: m._id, text: 'moderated' } });
      assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
      assert.equal(byAdmin.body.message.msg, 'moderated');
      assert.equal(byAdmin.body.message.editedBy.username, 'root');

      const { rid: side } = await amy.ddp.call('createChannel', 'elsewhere', ['bob']);
      assert.equal((await ddpError(bob.ddp.call('updateMessage', { _id: m._id, rid: side, msg: 'moved?' }))).error, 'error-invalid-params');
      assert.equal((await ddpError(bob.ddp.call('updateMessage', { _id: 'NoSuchMessage', rid, msg: 'x' }))).error, 'error-message-not-found');
      assert.equal((await ddpError(bob.ddp.call('updateMessage', 'not a message'))).error, 'error-invalid-params');
      assert.equal((await ddpError(bob.ddp.call('updateMessage', { _id: m._id, rid, msg: 'x', pinned: true }))).error, 'error-invalid-params');
    });

    it('only the author or an admin may delete; deleteMessage({_id}) and REST chat.delete', async () => {
      const mine = await cat.ddp.call('sendMessage', { rid, msg: 'delete me' });
      const theirs = await bob.ddp.call('sendMessage', { rid, msg: 'keep me' });
      assert.equal((await ddpError(cat.ddp.call('deleteMessage', { _id: theirs._id }))).error, 'error-action-not-allowed');
      const frame = await cat.ddp.callRaw('deleteMessage', { _id: mine._id });
      assert.deepEqual(frame, { msg: 'result', id: frame.id });
      assert.equal((await ddpError(cat.ddp.call('deleteMessage', { _id: mine._id }))).error, 'error-message-not-found');

      const res = await rest(t.url, 'POST', '/api/v1/chat.delete', { auth: root.auth, body: { roomId: rid, msgId: theirs._id } });
      assert.equal(res.status, 200);
      assert.equal(res.body._id, theirs._id);
      assert.equal(res.body.ts, String(clock.now()));
      assert.deepEqual(res.body.message, { _id: theirs._id, rid, u: theirs.u });
      const ids = (await amy.ddp.call('loadHistory', rid, null, 100)).messages.map((m: any) => m._id);
      assert.ok(!ids.includes(mine._id) && !ids.includes(theirs._id));
    });

    it('members pin and unpin; a non-member may not; pinMessage takes a whole message record', async () => {
      clock.advance(1);
      const m = await amy.ddp.call('sendMessage', { rid, msg: 'pin me' });
      const { ddp: dan } = await emailUserSession(t, 'dan', { email2fa: false });
      assert.equal((await ddpError(dan.call('pinMessage', m))).error, 'error-not-allowed');
      dan.close();
      clock.advance(3);
      const pinned = await bob.ddp.call('pinMessage', m);
      assert.equal(pinned.pinned, true);
      assert.deepEqual(pinned.pinnedBy, { _id: bob.user.id, username: 'bob' });
      assert.deepEqual(pinned.pinnedAt, { $date: clock.now() });
      assert.equal(await bob.ddp.call('unpinMessage', { _id: m._id }), true);
      const [after] = (await amy.ddp.call('loadHistory', rid, null, 1)).messages;
      assert.equal(after._id, m._id);
      assert.ok(!('pinned' in after) && !('pinnedBy' in after));

      const viaRest = await rest(t.url, 'POST', '/api/v1/chat.pinMessage', { auth: amy.auth, body: { messageId: m._id } });
      assert.equal(viaRest.status, 200);
      assert.equal(viaRest.body.message.pinned, true);
      assert.equal(viaRest.body.message.pinnedAt, new Date(clock.now()).toISOString());
      const unpinned = await rest(t.url, 'POST', '/api/v1/chat.unPinMessage', { auth: amy.auth, body: { messageId: m._id } });
      assert.deepEqual(unpinned.body, { success: true });
      assert.equal((await ddpError(bob.ddp.call('pinMessage', 'x'))).error, 'error-invalid-params');
      assert.equal((await ddpError(bob.ddp.call('pinMessage', {}))).error, 'error-parameter-required');
    });

    it('loadHistory and channels.history give the newest messages first and page back with end/latest', async () => {
      const { rid: hist } = await amy.ddp.call('createChannel', 'history', []);
      const sent = [];
      for (let i = 0; i < 5; i++) {
        clock.advance(1);
        sent.push(await amy.ddp.call('sendMessage', { rid: hist, msg: `m${i}` }));
      }
      const all = await amy.ddp.call('loadHistory', hist);
      assert.deepEqual(all.messages.map((m: any) => m.msg), ['m4', 'm3', 'm2', 'm1', 'm0']);
      const page = await amy.ddp.call('loadHistory', hist, sent[3].ts, 2, null, false);
      assert.deepEqual(page.messages.map((m: any) => m.msg), ['m2', 'm1']);
      // Reading a public channel needs no membership.
      const res = await rest(t.url, 'GET', `/api/v1/channels.history?roomId=${hist}&count=2&latest=${encodeURIComponent(new Date(sent[2].ts.$date).toISOString())}`, { auth: cat.auth });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.messages.map((m: any) => m.msg), ['m1', 'm0']);
      assert.equal((await rest(t.url, 'GET', `/api/v1/channels.history?roomId=${hist}&count=-1`, { auth: cat.auth })).body.errorType, 'error-invalid-params');
      assert.equal((await rest(t.url, 'GET', `/api/v1/channels.history?roomId=${hist}&latest=yesterday`, { auth: cat.auth })).body.errorType, 'error-invalid-params');
      // An unknown parameter: Rocket.Chat's schema wording on REST.
      assert.equal((await rest(t.url, 'GET', `/api/v1/channels.history?roomId=${hist}&offset=3`, { auth: cat.auth })).body.errorType, 'invalid-params');
      assert.equal((await ddpError(amy.ddp.call('loadHistory', 'NoSuchRoom123'))).error, 'error-room-not-found');
      assert.equal((await ddpError(amy.ddp.call('loadHistory', hist, null, 5, null, false, 'sixth'))).error, 'error-invalid-params');
    });

    it('a history read returns at most TWOFOLD_HISTORY_MAX_COUNT (default 100) messages', async () => {
      assert.equal(t.server.app.settings.historyMaxCount, 100);
      const { rid: busy } = await amy.ddp.call('createChannel', 'busy', []);
      for (let i = 0; i < 101; i++) await amy.ddp.call('sendMessage', { rid: busy, msg: `n${i}` });
      assert.equal((await amy.ddp.call('loadHistory', busy, null, 500)).messages.length, 100);
      const res = await rest(t.url, 'GET', `/api/v1/channels.history?roomId=${busy}&count=1000`, { auth: amy.auth });
      assert.equal(res.body.messages.length, 100);
      assert.equal((await amy.ddp.call('loadHistory', busy)).messages.length, 20);
    });

    it('an author who is no longer a member may not edit, an admin still may', async () => {
      const { rid: room } = await amy.ddp.call('createChannel', 'leaving', ['cat']);
      const m = await cat.ddp.call('sendMessage', { rid: room, msg: 'before I go' });
      await t.server.app.store.db.deleteFrom('room_members').where('room_id', '=', room).where('user_id', '=', cat.user.id).execute();
      assert.equal((await ddpError(cat.ddp.call('updateMessage', { _id: m._id, rid: room, msg: 'still mine?' }))).error, 'error-action-not-allowed');
      assert.equal((await root.ddp.call('updateMessage', { _id: m._id, rid: room, msg: 'by admin' })).msg, 'by admin');
    });
  });

  describe(`TWOFOLD_MESSAGE_OPERATIONS_2FA makes listed message operations ask on their own (${store})`, () => {
    let t: TestServer;
    const clock = new FakeClock();
    before(async () => {
      t = await startTestServer({ store, clock, settings: { messageOperations2fa: ['pinMessage', 'deleteMessage'], rememberFor: 0 } });
    });
    after(() => t.close());

    it('pinMessage and deleteMessage ask for a code, sendMessage and updateMessage do not', async () => {
      const { ddp, user } = await emailUserSession(t, 'gus');
      const { rid } = await ddp.call('createChannel', 'guarded', []);
      const m = await ddp.call('sendMessage', { rid, msg: 'guard me' });
      assert.equal((await ddp.call('updateMessage', { _id: m._id, rid, msg: 'edited freely' })).msg, 'edited freely');

      let challenge: any;
      const code = await mailedCode(t, clock, 'gus@example.com', async () => { challenge = await ddpError(ddp.call('pinMessage', m)); });
      assert.equal(challenge.error, 'totp-required');
      assert.equal(challenge.details.method, 'email');
      assert.equal((await ddp.call('pinMessage', m, { twoFactorCode: code, twoFactorMethod: 'email' })).pinned, true);

      // REST asks the same, with the headers as the second factor.
      const auth = { userId: user.id, authToken: (await issueLoginToken(t.server.app, user)).token };
      const asked = await rest(t.url, 'POST', '/api/v1/chat.delete', { auth, body: { roomId: rid, msgId: m._id } });
      assert.equal(asked.status, 400);
      assert.equal(asked.body.errorType, 'totp-required');
      const restCode = await mailedCode(t, clock, 'gus@example.com', () => rest(t.url, 'POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername: 'gus' } }));
      const deleted = await rest(t.url, 'POST', '/api/v1/chat.delete', { auth, body: { roomId: rid, msgId: m._id }, headers: { 'x-2fa-code': restCode, 'x-2fa-method': 'email' } });
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      ddp.close();
    });
  });
}
