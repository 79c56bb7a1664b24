// The small messaging domain the seeds' examples call (`updateMessage`, `pinMessage` through
// callWithTwoFactorRequired): channels, messages, pins and history, with Rocket.Chat's DDP
// method names and REST endpoints. Which of these ask for a second factor on their own is
// the TWOFOLD_MESSAGE_OPERATIONS_2FA setting (spec §5); callWithTwoFactorRequired works with all.

import { z } from 'zod';
import type { messageOperationNames } from '../config/settings.ts';
import { TwofoldError } from '../core/errors.ts';
import { newId } from '../core/random.ts';
import type { SecondFactorPolicy } from '../core/twofactor/types.ts';
import type { Message } from '../store/messages.ts';
import {
  assertCanModify, assertMember, isPlainObject, type MessageView, messageOrThrow, messageText, messageView, messageViews, positional,
  recordId, renameKeys, roomOrThrow, roomView, type RoomView,
} from './message-access.ts';
import type { Deps } from './deps.ts';
import { defineOperation } from './registry.ts';
import * as s from './schemas.ts';

type MessageOperationName = (typeof messageOperationNames)[number];
const policyFromSetting = (name: MessageOperationName) =>
  (deps: Pick<Deps, 'settings'>): SecondFactorPolicy => (deps.settings.messageOperations2fa.includes(name) ? 'ask' : 'none');
const asksWhenListed = (name: MessageOperationName) => ` Asks for a second factor when \`${name}\` is in TWOFOLD_MESSAGE_OPERATIONS_2FA.`;

// Rocket.Chat's default channel-name rule (UTF8_Channel_Names_Validation).
const channelName = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"');
const previewUrls = z.array(z.string().max(2048)).max(32).optional();
const emptyObject = z.object({}).strict().optional();

/**
 * Rocket.Chat clients pass a whole message record to pin/unpin/delete; only its ids matter,
 * so the rest of the record is dropped here rather than refused.
 */
function messageRef(params: unknown[], names: readonly string[]): unknown {
  const { message, ...rest } = positional(names, params);
  // Anything but an object is left for the schema to refuse, after the login check.
  if (!isPlainObject(message)) return message === undefined ? rest : message;
  return { ...rest, _id: message._id, ...(message.rid !== undefined ? { rid: message.rid } : {}) };
}

function checkLength(deps: Pick<Deps, 'settings'>, msg: string): void {
  if (msg.length > deps.settings.messageMaxLength) {
    throw new TwofoldError('error-message-size-exceeded', { maxLength: deps.settings.messageMaxLength });
  }
}

/** The message, checked to be in the room the caller named (when they named one). */
async function messageInRoom(deps: Pick<Deps, 'messages'>, id: string, rid: string | undefined): Promise<Message> {
  const message = await messageOrThrow(deps, id);
  if (rid !== undefined && rid !== message.rid) {
    throw new TwofoldError('error-invalid-params', { rid }, 'The room id provided does not match where the message is from');
  }
  return message;
}

/** What changing a message (editing, deleting, pinning) uses. */
const CHANGE_USES = ['settings', 'messages', 'users', 'clock'] as const;

export const createChannelOperation = defineOperation({
  name: 'channels.create',
  summary: `Create a public channel; the creator and the listed usernames become its members.${asksWhenListed('createChannel')}`,
  auth: 'user',
  authError: 'error-invalid-user',
  uses: ['settings', 'users', 'messages', 'random', 'clock'],
  secondFactor: { kind: 'depends', choose: policyFromSetting('createChannel') },
  input: z.object({
    name: channelName,
    members: z.array(s.username).max(500).optional(),
    readOnly: z.boolean().optional(),
    customFields: emptyObject,
    extraData: emptyObject,
  }).strict(),
  rest: { method: 'POST', path: '/api/v1/channels.create', reply: (channel) => ({ body: { channel, success: true } }) },
  ddp: {
    name: 'createChannel',
    params: (p) => positional(['name', 'members', 'readOnly', 'customFields', 'extraData'], p),
    reply: (channel: RoomView) => ({ rid: channel._id, name: channel.name }),
  },
  async handler(ctx, input) {
    const { deps, user } = ctx;
    if (input.readOnly) throw new TwofoldError('error-invalid-params', { readOnly: true }, 'Read-only channels are not supported');
    const memberIds = [user.id];
    for (const username of input.members ?? []) {
      const member = await deps.users.byUsername(username);
      if (!member) throw new TwofoldError('error-invalid-user', { username }, `No user ${username}`);
      memberIds.push(member.id);
    }
    if (await deps.messages.roomByName(input.name)) throw new TwofoldError('error-duplicate-channel-name', { channel_name: input.name });
    const room = { id: newId(deps.random), name: input.name, type: 'c', createdBy: user.id, createdAt: deps.clock.now() };
    try {
      await deps.messages.createRoom(room, memberIds);
    } catch (e) {
      // Two creations of one name at once: the unique index decides, the loser hears why.
      if (await deps.messages.roomByName(input.name)) throw new TwofoldError('error-duplicate-channel-name', { channel_name: input.name });
      throw e;
    }
    return roomView(deps, room);
  },
});

export const joinChannelOperation = defineOperation({
  name: 'channels.join',
  summary: 'Join a public channel, which lets the caller post to it.',
  auth: 'user',
  authError: 'error-invalid-user',
  uses: ['messages', 'users', 'clock'],
  secondFactor: { kind: 'none' },
  input: z.object({ roomId: recordId, joinCode: z.string().max(256).optional() }).strict(),
  rest: { method: 'POST', path: '/api/v1/channels.join', reply: (channel) => ({ body: { channel, success: true } }) },
  ddp: { name: 'joinRoom', params: (p) => positional(['roomId', 'joinCode'], p), reply: () => true },
  async handler(ctx, { roomId }) {
    const { deps } = ctx;
    const room = await roomOrThrow(deps, roomId);
    await deps.messages.addMember(room.id, ctx.user.id, deps.clock.now());
    return roomView(deps, room);
  },
});

async function insertMessage(deps: Pick<Deps, 'messages'>, message: Message): Promise<void> {
  const store = deps.messages;
  if (await store.messageById(message.id)) throw new TwofoldError('error-message-already-exists', { _id: message.id });
  try {
    await store.insertMessage(message);
  } catch (e) {
    if (await store.messageById(message.id)) throw new TwofoldError('error-message-already-exists', { _id: message.id });
    throw e;
  }
}

export const sendMessageOperation = defineOperation({
  name: 'chat.sendMessage',
  summary: `Post a message to a room the caller is a member of. The client may choose the message _id.${asksWhenListed('sendMessage')}`,
  auth: 'user',
  authError: 'error-invalid-user',
  uses: ['settings', 'messages', 'users', 'random', 'clock'],
  secondFactor: { kind: 'depends', choose: policyFromSetting('sendMessage') },
  input: z.object({
    message: z.object({ _id: recordId.optional(), rid: recordId, msg: messageText }).strict(),
    previewUrls,
  }).strict(),
  rest: { method: 'POST', path: '/api/v1/chat.sendMessage', reply: (message) => ({ body: { message, success: true } }) },
  ddp: { name: 'sendMessage', params: (p) => positional(['message', 'previewUrls'], p) },
  async handler(ctx, { message: input }) {
    const { deps } = ctx;
    checkLength(deps, input.msg);
    const room = await roomOrThrow(deps, input.rid);
    await assertMember(deps, room.id, ctx.user);
    const message: Message = {
      id: input._id ?? newId(deps.random), rid: room.id, userId: ctx.user.id, msg: input.msg, ts: deps.clock.now(),
      editedAt: null, editedBy: null, pinned: false, pinnedAt: null, pinnedBy: null,
    };
    await insertMessage(deps, message);
    return messageView(deps, message);
  },
});

export const updateMessageOperation = defineOperation({
  name: 'chat.update',
  summary: `Edit a message: its author (still a member) or an admin.${asksWhenListed('updateMessage')}`,
  auth: 'user',
  authError: 'error-invalid-user',
  uses: CHANGE_USES,
  secondFactor: { kind: 'depends', choose: policyFromSetting('updateMessage') },
  input: z.object({ _id: recordId, rid: recordId, msg: messageText, previewUrls }).strict(),
  rest: {
    method: 'POST',
    path: '/api/v1/chat.update',
    input: ({ body }) => renameKeys(body, { msgId: '_id', roomId: 'rid', text: 'msg' }),
    reply: (message) => ({ body: { message, success: true } }),
  },
  ddp: {
    name: 'updateMessage',
    params: (p) => {
      const { message, previewUrls: urls } = positional(['message', 'previewUrls'], p);
      if (!isPlainObject(message)) return message === undefined ? {} : message;
      return urls === undefined ? message : { ...message, previewUrls: urls };
    },
  },
  async handler(ctx, input) {
    const { deps } = ctx;
    checkLength(deps, input.msg);
    const original = await messageInRoom(deps, input._id, input.rid);
    await assertCanModify(deps, original, ctx.user);
    await deps.messages.editMessage(original.id, input.msg, ctx.user.id, deps.clock.now());
    return messageView(deps, await messageOrThrow(deps, original.id));
  },
});

export const deleteMessageOperation = defineOperation({
  name: 'chat.delete',
  summary: `Delete a message: its author (still a member) or an admin.${asksWhenListed('deleteMessage')}`,
  auth: 'user',
  authError: 'error-invalid-user',
  uses: CHANGE_USES,
  secondFactor: { kind: 'depends', choose: policyFromSetting('deleteMessage') },
  input: z.object({ _id: recordId, rid: recordId.optional(), asUser: z.boolean().optional() }).strict(),
  rest: {
    method: 'POST',
    path: '/api/v1/chat.delete',
    input: ({ body }) => renameKeys(body, { msgId: '_id', roomId: 'rid' }),
    reply: (r: MessageView & { deletedAt: number }) => ({ body: { _id: r._id, ts: String(r.deletedAt), message: { _id: r._id, rid: r.rid, u: r.u }, success: true } }),
  },
  ddp: { name: 'deleteMessage', params: (p) => messageRef(p, ['message']), reply: () => undefined },
  async handler(ctx, input) {
    const { deps } = ctx;
    const message = await messageInRoom(deps, input._id, input.rid);
    await assertCanModify(deps, message, ctx.user);
    const view = await messageView(deps, message);
    await deps.messages.deleteMessage(message.id);
    return { ...view, deletedAt: deps.clock.now() };
  },
});

function pinOperation(pinned: boolean) {
  const ddpName = pinned ? 'pinMessage' : 'unpinMessage';
  return defineOperation({
    name: pinned ? 'chat.pinMessage' : 'chat.unPinMessage',
    summary: `${pinned ? 'Pin' : 'Unpin'} a message (room members and admins).${asksWhenListed(ddpName)}`,
    auth: 'user',
    authError: 'error-invalid-user',
    uses: CHANGE_USES,
    secondFactor: { kind: 'depends', choose: policyFromSetting(ddpName) },
    input: z.object({ _id: recordId, rid: recordId.optional(), pinnedAt: z.date().optional() }).strict(),
    rest: {
      method: 'POST',
      path: pinned ? '/api/v1/chat.pinMessage' : '/api/v1/chat.unPinMessage',
      input: ({ body }) => renameKeys(body, { messageId: '_id' }),
      reply: (message) => ({ body: pinned ? { message, success: true } : { success: true } }),
    },
    ddp: {
      name: ddpName,
      params: (p) => messageRef(p, pinned ? ['message', 'pinnedAt'] : ['message']),
      reply: (message) => (pinned ? message : true),
    },
    async handler(ctx, input) {
      const { deps } = ctx;
      const message = await messageInRoom(deps, input._id, input.rid);
      await assertMember(deps, message.rid, ctx.user, true);
      // The server's clock decides when a pin happened, not the client's `pinnedAt`.
      await deps.messages.setPinned(message.id, pinned, ctx.user.id, deps.clock.now());
      return messageView(deps, await messageOrThrow(deps, message.id));
    },
  });
}

export const pinMessageOperation = pinOperation(true);
export const unpinMessageOperation = pinOperation(false);

/** REST query values arrive as strings. */
function historyQuery(query: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = { ...query };
  if (typeof query.count === 'string' && /^\d{1,9}$/.test(query.count)) out.count = Number(query.count);
  if (typeof query.latest === 'string') {
    const at = new Date(query.latest);
    if (!Number.isNaN(at.getTime())) out.latest = at;
  }
  return out;
}

export const historyOperation = defineOperation({
  name: 'channels.history',
  summary: 'The newest messages of a channel, newest first; `latest` pages back in time.',
  auth: 'user',
  authError: 'error-invalid-user',
  uses: ['settings', 'messages', 'users'],
  secondFactor: { kind: 'none' },
  input: z.object({
    roomId: recordId,
    latest: z.date().optional(),
    count: z.number().int().min(1).max(1_000_000).optional(),
  }).strict(),
  rest: {
    method: 'GET',
    path: '/api/v1/channels.history',
    input: ({ query }) => historyQuery(query),
    reply: (messages) => ({ body: { messages, success: true } }),
  },
  ddp: {
    name: 'loadHistory',
    // loadHistory(rid, end, limit, ls, showThreadMessages): the last two change nothing here.
    params: (p) => {
      const { roomId, latest, count } = positional(['roomId', 'latest', 'count', 'ls', 'showThreadMessages'], p);
      return { roomId, latest, count };
    },
    reply: (messages) => ({ messages }),
  },
  async handler(ctx, input) {
    const { deps } = ctx;
    const room = await roomOrThrow(deps, input.roomId);
    const count = Math.min(input.count ?? 20, deps.settings.historyMaxCount);
    return messageViews(deps, await deps.messages.history(room.id, count, input.latest?.getTime()));
  },
});

export const messageOperations = [
  createChannelOperation, joinChannelOperation, sendMessageOperation, updateMessageOperation, deleteMessageOperation,
  pinMessageOperation, unpinMessageOperation, historyOperation,
];
