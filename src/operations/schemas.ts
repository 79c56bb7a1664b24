import { z } from 'zod';
import { EMAIL_ADDRESS_PATTERN, EMAIL_ADDRESS_RULE, isEmailAddress, MAX_EMAIL_LENGTH, normalizeEmailAddress } from '../core/email-address.ts';
import { MAX_PASSWORD_LENGTH, SHA256_HEX, USERNAME_PATTERN } from '../core/accounts.ts';

// Shared bounds: every string that comes in has a length limit.
export const id = z.string().min(1).max(64);
export const username = z.string().regex(USERNAME_PATTERN, 'must be 1-64 letters, digits, ".", "_" or "-"');
// Stored as delivered: a strict addr-spec, its domain lower-cased (src/core/email-address.ts).
export const email = z.string().max(MAX_EMAIL_LENGTH, `an email address has at most ${MAX_EMAIL_LENGTH} characters`).regex(EMAIL_ADDRESS_PATTERN, EMAIL_ADDRESS_RULE)
  .refine(isEmailAddress, 'must be a plain address like name@example.com: an xn-- label must be a valid internationalised domain name')
  .transform(normalizeEmailAddress);
export const plainPassword = z.string().min(1).max(MAX_PASSWORD_LENGTH);
export const sha256Digest = z.string().regex(SHA256_HEX, 'must be a SHA-256 hex digest');
export const displayName = z.string().min(1).max(128);
// A whole number is taken as its digits (the seeds print `code: 56830`); preprocessing rather
// than a union keeps a missing code reported as `error-parameter-required`.
export const code = z.preprocess((v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : v), z.string().max(256));
export const emailOrUsername = z.string().min(1).max(254);
export const noInput = z.union([z.object({}).strict(), z.undefined(), z.null()]).transform(() => ({}));
