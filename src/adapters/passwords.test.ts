import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSettings } from '../config/settings.ts';
import { argon2Hasher, digestPassword } from './passwords.ts';

describe('password hashes', () => {
  it('store argon2id of the SHA-256 digest with the default cost, and verify either case of the digest', async () => {
    const s = loadSettings({});
    const hasher = argon2Hasher({ memoryKib: s.argon2MemoryKib, iterations: s.argon2Iterations });
    const digest = digestPassword('correct horse');
    const stored = await hasher.hash(digest);
    assert.match(stored, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    assert.ok(!stored.includes(digest));
    assert.equal(await hasher.verify(stored, digest), true);
    assert.equal(await hasher.verify(stored, digest.toUpperCase()), true);
    assert.equal(await hasher.verify(stored, digestPassword('wrong')), false);
    assert.equal(await hasher.verify('not a hash', digest), false);
  });

  it('digests like Meteor clients: SHA-256 hex of the UTF-8 plaintext', () => {
    // Published SHA-256 test vector (FIPS 180-2): "abc".
    assert.equal(digestPassword('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
