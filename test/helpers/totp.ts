import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { FakeClock } from '../../src/core/clock.ts';
import { rest } from './rest.ts';

// An authenticator app written from RFC 4226/6238 with node:crypto, independent of the
// library the server uses, so a shared misreading of the RFCs cannot pass unnoticed.

export function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text.replace(/=+$/, '')) {
    const digit = alphabet.indexOf(ch);
    if (digit < 0) throw new Error(`not base32: ${ch}`);
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The code an authenticator app shows at `atMs` (SHA-1, 30 s steps). */
export function totpAt(secretBase32: string, atMs: number, digits = 6): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 30_000)));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** Moves to the next time step and returns the code shown then: every use needs a fresh step. */
export function nextTotp(clock: FakeClock, secret: string): string {
  clock.advance(30);
  return totpAt(secret, clock.now());
}

/** Backup codes as shown: 10 lowercase characters of an unambiguous alphabet, grouped by five. */
export const BACKUP_CODE = /^[a-km-np-z2-9]{5}-[a-km-np-z2-9]{5}$/;
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The image inside a `data:` URL, checked to be a PNG of a plausible QR code size. */
export function assertPngDataUrl(url: string): void {
  const m = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(url);
  assert.ok(m, 'a PNG data URL');
  const png = Buffer.from(m[1]!, 'base64');
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
  assert.equal(png.subarray(12, 16).toString('ascii'), 'IHDR');
  const width = png.readUInt32BE(16);
  assert.ok(width >= 21 && width === png.readUInt32BE(20), `square image, got ${width}`);
}

type Auth = { userId: string; authToken: string };

/** Enrols the logged-in user over REST and returns the secret and the backup codes. */
export async function enrolOverRest(url: string, auth: Auth, clock: FakeClock): Promise<{ secret: string; codes: string[] }> {
  const started = await rest(url, 'POST', '/api/v1/users.totp.enable', { auth });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const secret = started.body.secret as string;
  const done = await rest(url, 'POST', '/api/v1/users.totp.validate', { auth, body: { code: nextTotp(clock, secret) } });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  return { secret, codes: done.body.codes };
}

/** Six digits that are none of the codes accepted at `atMs` (window ±maxDelta). */
export function wrongTotp(secret: string, atMs: number, maxDelta = 1): string {
  const live = new Set(Array.from({ length: 2 * maxDelta + 1 }, (_, i) => totpAt(secret, atMs + (i - maxDelta) * 30_000)));
  for (let n = 0; ; n++) {
    const candidate = String(n * 111_111 % 1_000_000).padStart(6, '0');
    if (!live.has(candidate)) return candidate;
  }
}
