import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export interface RotationCounts {
  /** TOTP secrets (enrolled or pending) now sealed under the new key. */
  totpSecrets: number;
  /** Users whose backup codes were dropped: keyed hashes cannot be recomputed without the codes. */
  backupCodeUsers: number;
  /** Live email codes dropped for the same reason (they last minutes; users ask for a new one). */
  emailCodes: number;
}

/**
 * Moves every value that depends on the server key to a new key, in one transaction: a
 * crash leaves either the old state or the new one. `reseal` must accept a value already
 * sealed under the new key unchanged, so that an interrupted rotation can simply be rerun.
 */
export async function rotateKeyedData(db: Kysely<Database>, reseal: (sealed: string) => string): Promise<RotationCounts> {
  return db.transaction().execute(async (tx) => {
    const rows = await tx.selectFrom('users').select(['id', 'totp_secret', 'totp_pending_secret'])
      .where((eb) => eb.or([eb('totp_secret', 'is not', null), eb('totp_pending_secret', 'is not', null)])).execute();
    let totpSecrets = 0;
    for (const r of rows) {
      const secret = r.totp_secret === null ? null : reseal(r.totp_secret);
      const pending = r.totp_pending_secret === null ? null : reseal(r.totp_pending_secret);
      totpSecrets += (secret === null ? 0 : 1) + (pending === null ? 0 : 1);
      await tx.updateTable('users').set({ totp_secret: secret, totp_pending_secret: pending }).where('id', '=', r.id).execute();
    }
    const holders = await tx.selectFrom('backup_codes').select('user_id').distinct().execute();
    await tx.deleteFrom('backup_codes').execute();
    const codes = await tx.deleteFrom('email_codes').executeTakeFirst();
    return { totpSecrets, backupCodeUsers: holders.length, emailCodes: Number(codes.numDeletedRows) };
  });
}
