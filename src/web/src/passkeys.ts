// The browser's side of passkeys (WebAuthn) through @simplewebauthn/browser: asking the
// authenticator for an assertion (the answer to a code prompt, through the SDK's passkey
// entry point) or a new credential.
import { browserSupportsWebAuthn, startRegistration, WebAuthnAbortService } from '@simplewebauthn/browser';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/browser';
import { passkeyReply } from '../../../packages/client/src/passkey.ts';

export const passkeysSupported = () => browserSupportsWebAuthn();

/** The assertion for the server's request options, as the JSON text sent as the code (the SDK's passkey helper). */
export async function passkeyAnswer(options: Record<string, unknown>): Promise<string> {
  return (await passkeyReply(options)).code;
}

export async function newPasskey(options: Record<string, unknown>) {
  return startRegistration({ optionsJSON: options as unknown as PublicKeyCredentialCreationOptionsJSON });
}

/** Stops a passkey request in progress (a prompt closed while the browser was asking). */
export const cancelPasskey = () => WebAuthnAbortService.cancelCeremony();

/** What went wrong, in words: the person cancelled, or the authenticator refused. */
export function describePasskeyError(e: unknown): string {
  const name = e instanceof Error ? e.name : '';
  if (name === 'NotAllowedError' || name === 'AbortError') return 'The passkey request was cancelled or timed out. Try again.';
  if (name === 'InvalidStateError') return 'This passkey or security key is already registered.';
  return 'Your browser could not use a passkey here.';
}
