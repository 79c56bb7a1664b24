// The bundle the Chromium test loads for passkeys: the SDK's passkey entry point, and the
// browser library's registration, which a page needs to add the passkey in the first place.
export * from '../src/passkey.ts';
export { startRegistration } from '@simplewebauthn/browser';
