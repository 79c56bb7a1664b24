import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSettings } from '../../config/settings.ts';
import { openStore, type Store } from '../../store/index.ts';
import type { User } from '../accounts.ts';
import { FakeClock } from '../clock.ts';
import { cryptoRandom } from '../random.ts';
import { ServerKeys } from '../secrets.ts';
import { hotp, matchTotpStep, newTotpSecret, otpauthUrl, totpStep, verifyTotpCode } from './totp.ts';
import type { TwoFactorDeps } from './types.ts';

// RFC 4648 §6, written out here so the vectors do not lean on the library under test.
function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

const ascii = (text: string) => base32(Buffer.from(text, 'ascii'));
const SEED_SHA1 = ascii('12345678901234567890');
const SEED_SHA256 = ascii('12345678901234567890123456789012');
const SEED_SHA512 = ascii('1234567890123456789012345678901234567890123456789012345678901234');

describe('HOTP and TOTP against the RFC test vectors', () => {
  it('gives the RFC 4226 Appendix D values for counters 0 to 9', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    assert.deepEqual(expected.map((_, counter) => hotp(SEED_SHA1, counter)), expected);
  });

  it('gives the RFC 6238 Appendix B values for SHA-1, SHA-256 and SHA-512 at every listed time', () => {
    const table: [number, string, string, string][] = [
      [59, '94287082', '46119246', '90693936'],
      [1111111109, '07081804', '68084774', '25091201'],
      [1111111111, '14050471', '67062674', '99943326'],
      [1234567890, '89005924', '91819424', '93441116'],
      [2000000000, '69279037', '90698825', '38618901'],
      [20000000000, '65353130', '77737706', '47863826'],
    ];
    for (const [seconds, sha1, sha256, sha512] of table) {
      const step = totpStep(seconds * 1000);
      assert.equal(hotp(SEED_SHA1, step, 8, 'SHA1'), sha1, `SHA1 at ${seconds}`);
      assert.equal(hotp(SEED_SHA256, step, 8, 'SHA256'), sha256, `SHA256 at ${seconds}`);
      assert.equal(hotp(SEED_SHA512, step, 8, 'SHA512'), sha512, `SHA512 at ${seconds}`);
    }
  });

  it('a 6-digit code is the last six digits of the 8-digit one (RFC 4226 §5.3 truncation)', () => {
    assert.equal(hotp(SEED_SHA1, totpStep(59_000)), '287082');
    assert.equal(hotp(SEED_SHA1, totpStep(1111111109_000)), '081804');
  });
});

describe('matching a code to its time step', () => {
  const now = 1_234_567_890_000;
  const step = totpStep(now);
  const code = (delta: number) => hotp(SEED_SHA1, step + delta);

  it('accepts the current step and one step either side by default, and names the step', () => {
    assert.equal(matchTotpStep(SEED_SHA1, code(0), now, 1), step);
    assert.equal(matchTotpStep(SEED_SHA1, code(-1), now, 1), step - 1);
    assert.equal(matchTotpStep(SEED_SHA1, code(1), now, 1), step + 1);
  });

  it('refuses codes outside the window, and widens or narrows with maxDelta', () => {
    assert.equal(matchTotpStep(SEED_SHA1, code(2), now, 1), null);
    assert.equal(matchTotpStep(SEED_SHA1, code(-2), now, 1), null);
    assert.equal(matchTotpStep(SEED_SHA1, code(-2), now, 2), step - 2);
    assert.equal(matchTotpStep(SEED_SHA1, code(1), now, 0), null);
    assert.equal(matchTotpStep(SEED_SHA1, code(0), now, 0), step);
  });

  it('refuses anything that is not exactly six digits, even when the digits are right', () => {
    const good = code(0);
    for (const bad of [` ${good}`, `${good} `, `${good.slice(0, 3)} ${good.slice(3)}`, good.slice(1), `${good}0`,
      hotp(SEED_SHA1, step, 8), 'abcdef', '12345a', '', '１２３４５６']) {
      assert.equal(matchTotpStep(SEED_SHA1, bad, now, 1), null, JSON.stringify(bad));
    }
  });

  it('a code of another secret does not match', () => {
    assert.equal(matchTotpStep(SEED_SHA1, hotp(SEED_SHA256, step), now, 1), null);
  });
});

describe('new secrets and their otpauth URL', () => {
  it('a new secret is 160 random bits in base32, different every time', () => {
    const a = newTotpSecret(cryptoRandom);
    const b = newTotpSecret(cryptoRandom);
    assert.match(a, /^[A-Z2-7]{32}$/);
    assert.notEqual(a, b);
  });

  it('the URL names the issuer and the user and carries the secret (Key Uri Format)', () => {
    const url = new URL(otpauthUrl(SEED_SHA1, 'alice', 'Twofold'));
    assert.equal(url.protocol, 'otpauth:');
    assert.equal(url.host, 'totp');
    assert.equal(decodeURIComponent(url.pathname), '/Twofold:alice');
    assert.equal(url.searchParams.get('secret'), SEED_SHA1);
    assert.equal(url.searchParams.get('issuer'), 'Twofold');
    for (const [k, v] of [['algorithm', 'SHA1'], ['digits', '6'], ['period', '30']]) {
      const got = url.searchParams.get(k!);
      assert.ok(got === null || got === v, `${k}=${got}`);
    }
  });
});

describe('the replay guard on a real store', () => {
  let dir: string;
  let store: Store;
  let deps: TwoFactorDeps;
  let user: User;
  let sealed: string;
  const clock = new FakeClock(1_700_000_000_000);
  const keys = new ServerKeys(Buffer.alloc(32, 7));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twofold-totp-unit-'));
    store = await openStore({ dataDir: dir });
    deps = {
      store: store.twoFactor, clock, random: cryptoRandom, keys,
      settings: loadSettings({}, { totpMaxDelta: 1 }),
      sendCodeMail: async () => { throw new Error('no mail in this test'); },
      verifyPassword: async () => false,
    };
    user = await store.users.create({ id: 'u1', username: 'u1', name: 'u1', passwordHash: null, roles: ['user'], createdAt: clock.now(), emails: [] });
    sealed = keys.encrypt(SEED_SHA1, cryptoRandom);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const codeAt = (deltaSteps: number) => hotp(SEED_SHA1, totpStep(clock.now()) + deltaSteps);

  it('a code is accepted once; the same code again in its window is refused', async () => {
    const code = codeAt(0);
    assert.equal(await verifyTotpCode(deps, user, sealed, code), true);
    assert.equal(await verifyTotpCode(deps, user, sealed, code), false);
    clock.advance(30);
    assert.equal(await verifyTotpCode(deps, user, sealed, code), false, 'still in the window one step later');
  });

  it('after a newer step was used, an older step\'s code is refused though inside the window', async () => {
    clock.advance(30);
    assert.equal(await verifyTotpCode(deps, user, sealed, codeAt(1)), true);
    assert.equal(await verifyTotpCode(deps, user, sealed, codeAt(0)), false);
    clock.advance(60);
    assert.equal(await verifyTotpCode(deps, user, sealed, codeAt(0)), true, 'a later step passes again');
  });

  it('of 20 concurrent uses of one code exactly one passes', async () => {
    clock.advance(90);
    const code = codeAt(0);
    const results = await Promise.all(Array.from({ length: 20 }, () => verifyTotpCode(deps, user, sealed, code)));
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('a wrong code does not move the guard', async () => {
    clock.advance(90);
    const before = (await store.users.byId(user.id))!.totpLastStep;
    const live = new Set([codeAt(-1), codeAt(0), codeAt(1)]);
    const wrong = ['000000', '111111', '222222', '333333'].find((c) => !live.has(c))!;
    assert.equal(await verifyTotpCode(deps, user, sealed, wrong), false);
    assert.equal((await store.users.byId(user.id))!.totpLastStep, before);
    assert.equal(await verifyTotpCode(deps, user, sealed, codeAt(0)), true);
  });
});
