// Regenerates the session transcript in docs/ddp.md from a real server: a throwaway
// instance on 127.0.0.1 with a fresh SQLite store, mail over SMTP to an in-process catcher.
// Run: node --import tsx scripts/ddp-transcript.ts

import { readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { FakeClock } from '../src/core/clock.ts';
import { sha256 } from '../test/helpers/ddp.ts';
import { SEED_MESSAGE_ID, SEED_RID } from '../test/helpers/realtime.ts';
import { startTestServer } from '../test/helpers/server.ts';

const DOC = new URL('../docs/ddp.md', import.meta.url);
const START = '<!-- transcript:start -->';
const END = '<!-- transcript:end -->';

const clock = new FakeClock();
const t = await startTestServer({ clock, settings: { messageOperations2fa: ['updateMessage'] } });
const lines: string[] = [];
const note = (text: string) => lines.push(...(lines.length ? [''] : []), `// ${text}`);
try {
  const alice = await t.addUser({ username: 'alice', password: 'alice pw', email: 'alice@example.com', email2fa: true });
  await t.server.app.store.messages.createRoom({ id: SEED_RID, name: 'general', type: 'c', createdBy: alice.id, createdAt: t.server.app.clock.now() }, [alice.id]);

  note('On open the server sends server_id; the client connects.');
  const socket = new WebSocket(t.wsUrl);
  const inbox: unknown[] = [];
  let wake: (() => void) | undefined;
  socket.on('message', (data) => {
    const text = data.toString();
    lines.push(`← ${text}`);
    inbox.push(JSON.parse(text));
    wake?.();
  });
  await new Promise((resolve) => socket.once('open', resolve));

  const next = async (pred: (f: any) => boolean): Promise<any> => {
    for (;;) {
      const i = inbox.findIndex(pred);
      if (i >= 0) return inbox.splice(i, 1)[0];
      await new Promise<void>((resolve) => { wake = resolve; });
    }
  };
  const send = (frame: unknown) => {
    const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
    lines.push(`→ ${text}`);
    socket.send(text);
  };
  /** Sends a method frame and waits for its `updated`, which comes after the result. */
  const call = async (id: string, method: string, params: unknown[]) => {
    send({ msg: 'method', id, method, params });
    const result = await next((f) => f.msg === 'result' && f.id === id);
    await next((f) => f.msg === 'updated' && f.methods.includes(id));
    return result;
  };

  await next((f) => 'server_id' in f);
  send({ msg: 'connect', version: '1', support: ['1', 'pre2', 'pre1'] });
  await next((f) => f.msg === 'connected');

  note('Password login (SHA-256 digest): alice has email codes on, so the server mails a code and answers totp-required.');
  const request = { user: { username: 'alice' }, password: { digest: sha256('alice pw'), algorithm: 'sha-256' } };
  let mailed = t.mail.nextCode('alice@example.com');
  await call('1', 'login', [request]);
  note('The same login again with the code from the mail.');
  await call('2', 'login', [{ totp: { login: request, code: await mailed } }]);

  note('Posting needs no second factor by default.');
  await call('3', 'sendMessage', [{ _id: SEED_MESSAGE_ID, rid: SEED_RID, msg: 'Whats 2+2?' }]);

  // Past the one-code-a-minute sending limit.
  clock.advance(61);
  note('This server lists updateMessage in TWOFOLD_MESSAGE_OPERATIONS_2FA, so editing asks; the code mailed at login was used up, so a new one is sent.');
  await call('4', 'updateMessage', [{ _id: SEED_MESSAGE_ID, rid: SEED_RID, msg: 'Whats 4*!' }]);

  note('The client asks for another code (sendEmailCode always sends one): now two are live.');
  clock.advance(61);
  mailed = t.mail.nextCode('alice@example.com');
  await call('5', 'sendEmailCode', ['alice']);

  note("The seed's callWithTwoFactorRequired payload with the latest code: the edit goes through.");
  await call('342', 'callWithTwoFactorRequired', [{
    code: await mailed, ddpMethod: 'updateMessage', method: 'email',
    params: [{ _id: SEED_MESSAGE_ID, rid: SEED_RID, msg: 'Whats 4*!' }],
  }]);

  note('The seed prints the call as its own frame (msg "callWithTwoFactorRequired", payload beside it); that form is accepted too. A wrong code:');
  send(JSON.stringify({ msg: 'callWithTwoFactorRequired', code: '38290', ddpMethod: 'pinMessage', id: '343', method: 'email', params: [{ _id: SEED_MESSAGE_ID }] }));
  await next((f) => f.msg === 'result' && f.id === '343');
  await next((f) => f.msg === 'updated' && f.methods.includes('343'));

  note('Keep-alive.');
  send({ msg: 'ping', id: 'k1' });
  await next((f) => f.msg === 'pong');
  socket.close();
} finally {
  await t.close();
}

const block = ['```text', ...lines.map((l) => l.replace(/"token":"[^"]+"/, '"token":"<login token>"')), '```'].join('\n');
const doc = readFileSync(DOC, 'utf8');
const from = doc.indexOf(START);
const to = doc.indexOf(END);
if (from < 0 || to < from) throw new Error(`docs/ddp.md needs the ${START} and ${END} markers`);
writeFileSync(DOC, `${doc.slice(0, from + START.length)}\n${block}\n${doc.slice(to)}`);
console.log(`wrote ${lines.length} lines to docs/ddp.md`);
