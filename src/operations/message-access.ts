// Lookups, access rules and the Rocket.Chat wire shapes behind the messaging operations.

import { z } from 'zod';
import { isAdmin, type User } from '../core/accounts.ts';
import { TwofoldError } from '../core/errors.ts';
import type { Message, Room } from '../store/messages.ts';
import type { Deps } from './deps.ts';

type Messages = Pick<Deps, 'messages'>;
/** What the wire shapes read: the authors' names, and a room's member count. */
type Views = Pick<Deps, 'users' | 'messages'>;

/** Room and message ids: ours are 17 characters, Rocket.Chat's 17 or 24 (the seeds use both). */
export const recordId = z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'must be 1-64 letters or digits');
// The settings bound message text (TWOFOLD_MESSAGE_MAX_LENGTH); this only stops absurd input early.
export const messageText = z.string().min(1).max(100_000);

/**
 * DDP positional params as named input. Fewer params than names is fine (trailing ones are
 * optional); more is bad input rather than something to drop silently.
 */
export function positional(names: readonly string[], params: unknown[]): Record<string, unknown> {
  if (params.length > names.length) {
    throw new TwofoldError('error-invalid-params', { expected: names.length, received: params.length },
      `Expected at most ${names.length} parameter${names.length === 1 ? '' : 's'}, got ${params.length}`);
  }
  const out: Record<string, unknown> = {};
  names.forEach((name, i) => {
    if (params[i] !== undefined && params[i] !== null) out[name] = params[i];
  });
  return out;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export async function roomOrThrow(deps: Messages, rid: string): Promise<Room> {
  const room = await deps.messages.roomById(rid);
  if (!room) throw new TwofoldError('error-room-not-found', { rid });
  return room;
}

export async function messageOrThrow(deps: Messages, id: string): Promise<Message> {
  const message = await deps.messages.messageById(id);
  if (!message) throw new TwofoldError('error-message-not-found', { _id: id });
  return message;
}

/** Writing to a room (posting, pinning) is for its members; admins may pin anywhere. */
export async function assertMember(deps: Messages, rid: string, user: User, adminToo = false): Promise<void> {
  if (adminToo && isAdmin(user)) return;
  if (!await deps.messages.isMember(rid, user.id)) throw new TwofoldError('error-not-allowed', { rid }, 'You are not a member of this room');
}

/** Editing and deleting: the author while still a member, or an admin. */
export async function assertCanModify(deps: Messages, message: Message, user: User): Promise<void> {
  if (isAdmin(user)) return;
  if (message.userId === user.id && await deps.messages.isMember(message.rid, user.id)) return;
  throw new TwofoldError('error-action-not-allowed', { _id: message.id }, 'Only the author or an admin may change this message');
}

type UserRef = { _id: string; username: string; name?: string };

/** The `u` / `editedBy` / `pinnedBy` references of a set of messages, one lookup per user. */
async function userRefs(deps: Pick<Deps, 'users'>, ids: Iterable<string>): Promise<Map<string, UserRef>> {
  const refs = new Map<string, UserRef>();
  for (const id of new Set(ids)) {
    const user = await deps.users.byId(id);
    // A deleted author still leaves a readable message.
    refs.set(id, user ? { _id: user.id, username: user.username, name: user.name } : { _id: id, username: '' });
  }
  return refs;
}

export interface MessageView {
  _id: string;
  rid: string;
  msg: string;
  ts: Date;
  u: UserRef;
  _updatedAt: Date;
  editedAt?: Date;
  editedBy?: { _id: string; username: string };
  pinned?: true;
  pinnedAt?: Date;
  pinnedBy?: { _id: string; username: string };
}

const shortRef = (r: UserRef) => ({ _id: r._id, username: r.username });

/** Rocket.Chat's message shape. Dates stay Date: EJSON `$date` on DDP, ISO strings on REST. */
export async function messageViews(deps: Pick<Deps, 'users'>, messages: Message[]): Promise<MessageView[]> {
  const refs = await userRefs(deps, messages.flatMap((m) => [m.userId, m.editedBy, m.pinnedBy].filter((x): x is string => x !== null)));
  return messages.map((m) => {
    const view: MessageView = {
      _id: m.id, rid: m.rid, msg: m.msg, ts: new Date(m.ts), u: refs.get(m.userId)!,
      _updatedAt: new Date(Math.max(m.ts, m.editedAt ?? 0, m.pinnedAt ?? 0)),
    };
    if (m.editedAt !== null && m.editedBy !== null) {
      view.editedAt = new Date(m.editedAt);
      view.editedBy = shortRef(refs.get(m.editedBy)!);
    }
    if (m.pinned && m.pinnedAt !== null && m.pinnedBy !== null) {
      view.pinned = true;
      view.pinnedAt = new Date(m.pinnedAt);
      view.pinnedBy = shortRef(refs.get(m.pinnedBy)!);
    }
    return view;
  });
}

export async function messageView(deps: Pick<Deps, 'users'>, message: Message): Promise<MessageView> {
  return (await messageViews(deps, [message]))[0]!;
}

/** Rocket.Chat's room shape for public channels (`t: "c"`). */
export async function roomView(deps: Views, room: Room) {
  const [creator] = (await userRefs(deps, [room.createdBy])).values();
  return {
    _id: room.id, name: room.name, fname: room.name, t: 'c' as const,
    u: shortRef(creator!), ts: new Date(room.createdAt), ro: false,
    usersCount: await deps.messages.memberCount(room.id),
    _updatedAt: new Date(room.createdAt),
  };
}

export type RoomView = Awaited<ReturnType<typeof roomView>>;

/** A REST body renamed to the DDP shape, unknown keys kept so the strict schema names them. */
export function renameKeys(raw: unknown, names: Record<string, string>): unknown {
  if (!isPlainObject(raw)) return raw;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) out[names[k] ?? k] = v;
  return out;
}
