// What a transport received as a second factor (an x-2fa-code header, a trailing
// `{twoFactorCode, twoFactorMethod}` param, callWithTwoFactorRequired's wrapper, a code as a
// JSON number or a string) becomes one `{code, method}` here, with one length limit and one
// list of method names for every way in.

import { TwofoldError } from '../errors.ts';
import { MAX_WEBAUTHN_ANSWER_LENGTH } from './methods/webauthn.ts';
import { METHOD_NAMES, type MethodName } from './types.ts';

/**
 * Longest answer a transport passes on (also the header bound on REST). A code between
 * MAX_CODE_LENGTH and this is a wrong code (it counts as a failure), not bad input.
 */
export const MAX_ANSWER_LENGTH = 256;

/** Longest code worth looking at: a SHA-256 hex digest (the password fallback). Anything longer is wrong. */
export const MAX_CODE_LENGTH = 128;

export interface SecondFactorAnswer {
  code?: string | undefined;
  method?: MethodName | undefined;
}

export const isMethodName = (v: unknown): v is MethodName => typeof v === 'string' && (METHOD_NAMES as readonly string[]).includes(v);

/** A whole number is taken as its digits (the seeds print `code: 56830`). */
export const codeFromNumber = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : v);

/** The refusal of an answer of the wrong shape, the same whichever transport carried it. */
const invalid = (reason: string) => new TwofoldError('error-invalid-params', undefined, reason);

/** An unknown method name is refused on every transport, before any code is looked at. */
export function parseAnswer(raw: { code?: unknown; method?: unknown }): SecondFactorAnswer {
  let method: MethodName | undefined;
  if (raw.method !== undefined) {
    if (!isMethodName(raw.method)) throw invalid(`twoFactorMethod must be one of ${METHOD_NAMES.join(', ')}`);
    method = raw.method;
  }
  const code = codeFromNumber(raw.code);
  // A passkey's answer is its assertion (JSON of a few hundred bytes); only it may be that long.
  const max = method === 'webauthn' ? MAX_WEBAUTHN_ANSWER_LENGTH : MAX_ANSWER_LENGTH;
  if (code !== undefined && (typeof code !== 'string' || code.length > max)) throw invalid('twoFactorCode must be a string');
  return { code, method };
}
