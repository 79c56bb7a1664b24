// One rule for every email address Twofold stores or mails: a bare RFC 5321 addr-spec with
// a dot-atom local part and a DNS host name. Nothing a mail library or relay could read as
// something else gets in — no display name, comment, quoted local part, list, group, angle
// bracket, whitespace, control or non-ASCII character, or IP literal — so the address
// stored is exactly the RCPT TO the mail goes to.

import { domainToASCII } from 'node:url';

// RFC 5322 atext; the backquote written as \x60 keeps it out of docs/api.md's code spans.
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_\\x60{|}~-]";
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
// A top-level label starting with a letter keeps dotted numbers (1.2.3.4) out.
const TOP_LABEL = '[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';

export const MAX_EMAIL_LENGTH = 254;
export const MAX_LOCAL_PART_LENGTH = 64;

/** The whole rule but the total length (254), which schemas check on their own. */
export const EMAIL_ADDRESS_PATTERN = new RegExp(`^(?=[^@]{1,${MAX_LOCAL_PART_LENGTH}}@)${ATEXT}+(?:\\.${ATEXT}+)*@(?:${LABEL}\\.)+${TOP_LABEL}$`);

export const EMAIL_ADDRESS_RULE = 'must be a plain address like name@example.com: no display name, comment, quotes, angle brackets, list, spaces, non-ASCII characters or IP literal';

/**
 * An `xn--` label must be a real IDNA A-label: mail libraries and servers decode it, and a
 * malformed one (`xn--a`) turned into another address or a failed send. The WHATWG host
 * parser leaves a valid ASCII domain as it is, bar case, and refuses a broken one.
 */
const validIdna = (domain: string) => !/(^|\.)xn--/i.test(domain) || domainToASCII(domain) === domain.toLowerCase();

export const isEmailAddress = (raw: string) =>
  raw.length <= MAX_EMAIL_LENGTH && EMAIL_ADDRESS_PATTERN.test(raw) && validIdna(raw.slice(raw.lastIndexOf('@') + 1));

/**
 * The stored form of an accepted address: the domain in lower case (DNS ignores case), the
 * local part as typed (RFC 5321 lets the receiving server tell its case apart; uniqueness
 * is still judged without case).
 */
export function normalizeEmailAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`;
}

/** The stored form, or null when the text is not an address Twofold accepts. */
export const parseEmailAddress = (raw: string): string | null => (isEmailAddress(raw) ? normalizeEmailAddress(raw) : null);
