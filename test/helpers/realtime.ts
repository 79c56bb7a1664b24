// Fixtures for the realtime (DDP) tests: users with email 2FA on, the seeds' room, codes by mail.

import type { User } from '../../src/core/accounts.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { DdpTestClient } from './ddp.ts';
import type { TestServer } from './server.ts';

/** The ids the seeds' examples use. */
export const SEED_RID = '64a1f373376181965ab77f54';
export const SEED_MESSAGE_ID = '298gMs93982Le9A7pZjo2D2iB';

export interface Session {
  user: User;
  ddp: DdpTestClient;
  /** Login token, for more connections of the same user (`{resume}` is never challenged). */
  token: string;
}

/**
 * A user logged in over DDP with a verified email, and email codes switched on afterwards
 * (as `2fa:enable-email` would), so the session itself was not challenged.
 * The password is `<username> pw`.
 */
export async function emailUserSession(t: TestServer, username: string, opts: { admin?: boolean; email2fa?: boolean } = {}): Promise<Session> {
  const user = await t.addUser({ username, password: `${username} pw`, email: `${username}@example.com`, roles: opts.admin ? ['user', 'admin'] : ['user'] });
  const ddp = await DdpTestClient.open(t.wsUrl);
  const { token } = await ddp.loginWithPassword(username, `${username} pw`);
  if (opts.email2fa !== false) await t.server.app.store.users.update(user.id, { email2faEnabled: true });
  return { user, ddp, token };
}

/** Another connection of the same login. */
export async function resumeSession(t: TestServer, token: string): Promise<DdpTestClient> {
  const ddp = await DdpTestClient.open(t.wsUrl);
  await ddp.call('login', { resume: token });
  return ddp;
}

/**
 * A room with a given id, as the seeds' examples need (`rid` "64a1f373376181965ab77f54");
 * clients cannot choose a room id, so the test puts it in the store.
 */
export async function addRoom(t: TestServer, id: string, name: string, members: User[]): Promise<void> {
  await t.server.app.store.messages.createRoom(
    { id, name, type: 'c', createdBy: members[0]!.id, createdAt: t.server.app.clock.now() },
    members.map((m) => m.id),
  );
}

/**
 * The code mailed while `run` runs. The clock first moves past the per-user sending
 * interval, so a test can ask for several codes in a row.
 */
export async function mailedCode(t: TestServer, clock: FakeClock, address: string, run: () => Promise<unknown>): Promise<string> {
  clock.advance(61);
  return t.mail.nextCode(address, run);
}

/** A six-digit code other than `code`. */
export const wrongCode = (code: string) => code.replace(/^./, (d) => String((Number(d) + 1) % 10));
