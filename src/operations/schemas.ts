import { z } from 'zod';
import { EMAIL_ADDRESS_PATTERN, EMAIL_ADDRESS_RULE, isEmailAddress, MAX_EMAIL_LENGTH, normalizeEmailAddress } from '../core/email-address.ts';
import { MAX_PASSWORD_LENGTH, SHA256_HEX, USERNAME_PATTERN } from '../core/accounts.ts';
import { codeFromNumber, MAX_ANSWER_LENGTH } from '../core/twofactor/answer.ts';

// Shared bounds: every string that comes in has a length limit.
export const id = z.string().min(1).max(64);
export const username = z.string().regex(USERNAME_PATTERN, 'must be 1-64 letters, digits, ".", "_" or "-"');
// Stored as delivered: a strict addr-spec, its domain lower-cased (src/core/email-address.ts).
export const email = z.string().max(MAX_EMAIL_LENGTH, `an email address has at most ${MAX_EMAIL_LENGTH} characters`).regex(EMAIL_ADDRESS_PATTERN, EMAIL_ADDRESS_RULE)
  .refine(isEmailAddress, 'must be a plain address like name@example.com: an xn-- label must be a valid internationalised domain name')
  .transform(normalizeEmailAddress);
export const plainPassword = z.string().min(1).max(MAX_PASSWORD_LENGTH);
export const sha256Digest = z.string().regex(SHA256_HEX, 'must be a SHA-256 hex digest');
// A name of spaces only is no name (Rocket.Chat's clients send what was typed).
export const displayName = z.string().min(1).max(128).refine((v) => v.trim() !== '', 'must not be blank');
// A whole number is taken as its digits (the seeds print `code: 56830`); preprocessing rather
// than a union keeps a missing code reported as `error-parameter-required`.
export const code = z.preprocess(codeFromNumber, z.string().max(MAX_ANSWER_LENGTH));
export const emailOrUsername = z.string().min(1).max(254);
export const noInput = z.union([z.object({}).strict(), z.undefined(), z.null()]).transform(() => ({}));

/** Rocket.Chat's schemas mark optional fields `nullable`: its clients send `null` for "not given". */
export const nullable = <T extends z.ZodType>(type: T) => z.preprocess((v) => (v === null ? undefined : v), type.optional());

/**
 * Fields Rocket.Chat's schemas allow that mean nothing here (profile extras, channel joining,
 * welcome mails): accepted, bounded, and ignored, so its clients are not refused for sending them.
 */
export const ignoredText = nullable(z.string().max(1024));
export const ignoredFlag = nullable(z.boolean());
export const ignoredObject = nullable(z.record(z.string(), z.unknown()));

/** No parameters, and a body Rocket.Chat ignores (it validates none): any object is taken as none. */
export const ignoredBody = z.union([z.object({}), z.undefined(), z.null()]).transform(() => ({}));
