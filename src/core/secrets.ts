import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Random } from './random.ts';

export const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Equality of two strings in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  // Compare against itself on a length mismatch so the time does not depend on the content.
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/**
 * Keys derived from the one server key, each for one purpose, so that a leak of one
 * derived use cannot be replayed in another (HKDF, RFC 5869).
 */
export class ServerKeys {
  readonly codeKey: Buffer;
  readonly encryptionKey: Buffer;
  constructor(serverKey: Buffer) {
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', serverKey, 'twofold', info, 32));
    this.codeKey = derive('second-factor-codes');
    this.encryptionKey = derive('totp-secrets-aes-256-gcm');
  }

  /**
   * Hash of a login/verification token as stored (never the token itself). Plain SHA-256 is
   * enough for 256-bit random tokens, and lets instances with different keys share sessions.
   */
  hashToken(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  /** Keyed hash of a short code bound to its user, so equal codes of two users differ. */
  hashCode(userId: string, code: string): string {
    return createHmac('sha256', this.codeKey).update(`${userId}\0${code}`).digest('base64url');
  }

  encrypt(plaintext: string, random: Random): string {
    const iv = random.bytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  decrypt(sealed: string): string {
    const [version, iv, body, tag] = sealed.split('.');
    if (version !== 'v1' || !iv || !body || !tag) throw new Error('sealed value has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}
