import type { Kysely, Selectable } from 'kysely';
import type { Database, MessagesTable, RoomsTable } from './schema.ts';

export interface Room { id: string; name: string; type: string; createdBy: string; createdAt: number }
export interface Message {
  id: string; rid: string; userId: string; msg: string; ts: number;
  editedAt: number | null; editedBy: string | null; pinned: boolean; pinnedAt: number | null; pinnedBy: string | null;
}

const toRoom = (r: Selectable<RoomsTable>): Room => ({ id: r.id, name: r.name, type: r.type, createdBy: r.created_by, createdAt: Number(r.created_at) });
const toMessage = (r: Selectable<MessagesTable>): Message => ({
  id: r.id, rid: r.rid, userId: r.user_id, msg: r.msg, ts: Number(r.ts),
  editedAt: r.edited_at === null ? null : Number(r.edited_at), editedBy: r.edited_by,
  pinned: r.pinned === 1, pinnedAt: r.pinned_at === null ? null : Number(r.pinned_at), pinnedBy: r.pinned_by,
});

export class MessageStore {
  constructor(private readonly db: Kysely<Database>) {}

  async createRoom(room: Room, memberIds: string[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('rooms').values({ id: room.id, name: room.name, type: room.type, created_by: room.createdBy, created_at: room.createdAt }).execute();
      for (const userId of new Set(memberIds)) {
        await tx.insertInto('room_members').values({ room_id: room.id, user_id: userId, joined_at: room.createdAt }).execute();
      }
    });
  }

  async roomById(id: string): Promise<Room | null> {
    const r = await this.db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toRoom(r) : null;
  }

  async roomByName(name: string): Promise<Room | null> {
    const r = await this.db.selectFrom('rooms').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? toRoom(r) : null;
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    return !!(await this.db.selectFrom('room_members').select('user_id').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst());
  }

  /** Adds a member; joining twice is not an error. */
  async addMember(roomId: string, userId: string, at: number): Promise<void> {
    await this.db.insertInto('room_members').values({ room_id: roomId, user_id: userId, joined_at: at })
      .onConflict((oc) => oc.columns(['room_id', 'user_id']).doNothing()).execute();
  }

  async memberCount(roomId: string): Promise<number> {
    const r = await this.db.selectFrom('room_members').select((eb) => eb.fn.countAll<string | number>().as('n')).where('room_id', '=', roomId).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async members(roomId: string): Promise<string[]> {
    return (await this.db.selectFrom('room_members').select('user_id').where('room_id', '=', roomId).execute()).map((r) => r.user_id);
  }

  async insertMessage(m: Message): Promise<void> {
    await this.db.insertInto('messages').values({
      id: m.id, rid: m.rid, user_id: m.userId, msg: m.msg, ts: m.ts, edited_at: m.editedAt, edited_by: m.editedBy,
      pinned: m.pinned ? 1 : 0, pinned_at: m.pinnedAt, pinned_by: m.pinnedBy,
    }).execute();
  }

  async messageById(id: string): Promise<Message | null> {
    const r = await this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toMessage(r) : null;
  }

  async editMessage(id: string, msg: string, editedBy: string, at: number): Promise<void> {
    await this.db.updateTable('messages').set({ msg, edited_at: at, edited_by: editedBy }).where('id', '=', id).execute();
  }

  async setPinned(id: string, pinned: boolean, by: string, at: number): Promise<void> {
    await this.db.updateTable('messages').set({ pinned: pinned ? 1 : 0, pinned_at: pinned ? at : null, pinned_by: pinned ? by : null })
      .where('id', '=', id).execute();
  }

  async deleteMessage(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('messages').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async history(roomId: string, limit: number, before?: number): Promise<Message[]> {
    let q = this.db.selectFrom('messages').selectAll().where('rid', '=', roomId);
    if (before !== undefined) q = q.where('ts', '<', before);
    return (await q.orderBy('ts', 'desc').orderBy('id', 'desc').limit(limit).execute()).map(toMessage);
  }
}
