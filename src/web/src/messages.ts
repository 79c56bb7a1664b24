// Error codes from the server, in words a person can act on.
import type { PageErrorCode } from '../../contract/api.ts';
import { ApiError } from './api.ts';
import { describeRefusal, waitText } from './prompt-text.ts';

export { waitText };

// Keyed by the contract's codes, so a code renamed on the server is a compile error here.
const words: Partial<Record<PageErrorCode, string>> = {
  'totp-invalid': 'That code is not right. Check it and try again.',
  'invalid-totp': 'That code is not right. Check your authenticator app and try again.',
  'totp-max-attempts': 'Too many wrong codes. Wait a few minutes, then try again.',
  'totp-required': 'This needs a code from your second factor.',
  'Unauthorized': 'The username or password is not right.',
  'login-failed': 'The username or password is not right.',
  'error-2fa-already-enabled': 'Your authenticator app is already set up.',
  'error-invalid-user': 'This account cannot do that yet. Is your email address verified?',
  'error-invalid-email': 'That email address does not look right.',
  'error-email-in-use': 'That email address already belongs to an account.',
  'error-username-in-use': 'That username is taken. Try another one.',
  'error-invalid-token': 'This link is not valid any more. Ask for a new one.',
  'error-invalid-password': 'That password is not right.',
  'error-parameter-required': 'Please fill in every field.',
  'error-invalid-params': 'Something you typed is not in the expected form.',
  'unauthorized': 'Your session has ended. Please sign in again.',
  'not-authorized': 'Your session has ended. Please sign in again.',
  'error-not-allowed': 'You are not allowed to do that.',
  'error-unauthorized': 'You are not allowed to do that.',
  'error-action-not-allowed': 'You are not allowed to do that.',
  'error-2fa-not-enabled': 'Codes by email are already off.',
  'invalid-params': 'Something you typed is not in the expected form.',
  'error-server-shutting-down': 'The server is restarting. Try again in a moment.',
  'network': 'Cannot reach the server. Check your connection and try again.',
  'error-2fa-suspended': 'Two-step verification is suspended for this account. Recover your account, or ask your administrator to reset your second factor.',
  'error-2fa-enrolment-required': 'Set up a second factor first: your account needs one before anything else.',
  'error-webauthn-registration-failed': 'The passkey could not be added. Try again.',
  'error-webauthn-limit': 'You have as many passkeys as an account may have. Remove one first.',
  'error-webauthn-not-found': 'That passkey is already gone.',
};

export function describeError(e: unknown): string {
  if (!(e instanceof ApiError)) return 'Something went wrong. Please try again.';
  if (e.code === 'error-too-many-requests' || e.code === 'totp-max-attempts') {
    const refusal = describeRefusal(e.code, e.details, e.details.method === 'email' ? 'email' : 'totp');
    if (refusal) return refusal.text;
  }
  if (e.code === 'error-login-blocked-for-ip' || e.code === 'error-login-blocked-for-user') {
    const wait = Number(e.details.timeToReset);
    return `Too many failed sign-ins. Try again${Number.isFinite(wait) && wait > 0 ? ` in ${waitText(wait)}` : ' later'}.`;
  }
  if (e.code === 'error-invalid-params' && e.details.issues) {
    const first = (e.details.issues as { path?: string }[])[0]?.path;
    if (first) return `“${first.split('.').pop()}” is not in the expected form.`;
  }
  return words[e.code as PageErrorCode] ?? ((e.status ?? 0) >= 500 ? 'The server had a problem. Please try again.' : 'That did not work. Please try again.');
}

/** Same masking as the server's (a•••e@example.com), for the address the user typed. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1) return '•••';
  const local = address.slice(0, at);
  if (local.length <= 2) return `${local[0]}•••${address.slice(at)}`;
  return `${local[0]}•••${local[local.length - 1]}${address.slice(at)}`;
}

/** The password fallback's code: SHA-256 hex of the password, so the password itself is not sent. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
