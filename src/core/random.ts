import { randomBytes, randomInt } from 'node:crypto';

/** Randomness, injectable so that the engine's tests are repeatable. */
export interface Random {
  bytes(n: number): Buffer;
  /** Uniform integer in [0, max). */
  int(max: number): number;
}

export const cryptoRandom: Random = {
  bytes: (n) => randomBytes(n),
  int: (max) => randomInt(max),
};

// Meteor's id alphabet: 17 characters give ~100 bits.
const ID_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz';

export function randomString(random: Random, length: number, alphabet = ID_ALPHABET): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[random.int(alphabet.length)];
  return out;
}

export const newId = (random: Random = cryptoRandom) => randomString(random, 17);

/** A login or verification token: 32 bytes, base64url. */
export const newToken = (random: Random = cryptoRandom) => random.bytes(32).toString('base64url');

/** A six-digit code with a uniform distribution (no modulo bias). */
export const newSixDigitCode = (random: Random = cryptoRandom) => String(random.int(1_000_000)).padStart(6, '0');
