// The memory and SQL two-factor stores against the same expectations.

import { rmSync } from 'node:fs';
import { MemoryTwoFactorStore } from '../src/core/twofactor/memory-store.ts';
import { openStore } from '../src/store/index.ts';
import { scratchDir } from './helpers/scratch.ts';
import { freshPostgresDatabase, storesUnderTest } from './helpers/stores.ts';
import { twoFactorStoreContract } from './helpers/twofactor-store-contract.ts';

let serial = 0;

twoFactorStoreContract('memory', async () => {
  const store = new MemoryTwoFactorStore();
  return {
    store,
    newUser: async () => `user${++serial}`,
    giveBackupCodes: async (userId, hashes) => { store.backupCodes.set(userId, new Set(hashes)); },
    newToken: async () => `token${++serial}`,
    rememberedFor: async (tokenHash) => {
      const t = store.callerToken(tokenHash);
      return { until: t.twofaUntil, fingerprint: t.twofaFingerprint };
    },
    close: async () => {},
  };
});

for (const kind of storesUnderTest) {
  twoFactorStoreContract(kind, async () => {
    const dataDir = scratchDir('twofold-store-');
    const pg = kind === 'postgres' ? await freshPostgresDatabase() : null;
    const opened = await openStore({ dataDir, databaseUrl: pg?.url });
    return {
      store: opened.twoFactor,
      async newUser() {
        const id = `user${++serial}`;
        await opened.users.create({ id, username: id, name: id, passwordHash: null, roles: ['user'], createdAt: 0, emails: [] });
        return id;
      },
      giveBackupCodes: (userId, hashes) => opened.twoFactor.replaceBackupCodes(userId, hashes),
      async newToken(userId) {
        const tokenHash = `token${++serial}`;
        await opened.tokens.insert({ tokenHash, userId, kind: 'login', name: null, bypass2fa: false, createdAt: 0, expiresAt: null });
        return tokenHash;
      },
      async rememberedFor(tokenHash) {
        const t = await opened.tokens.findLive(tokenHash, 0);
        return { until: t?.twofaUntil ?? null, fingerprint: t?.twofaFingerprint ?? null };
      },
      async close() {
        await opened.close();
        await pg?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  });
}
