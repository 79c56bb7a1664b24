import {
  generateAuthenticationOptions, verifyAuthenticationResponse,
  type AuthenticationResponseJSON, type AuthenticatorTransport, type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { User } from '../../accounts.ts';
import type { TwoFactorDeps, TwoFactorSettings } from '../types.ts';
import type { WebAuthnDeps } from '../webauthn-types.ts';
import type { ChallengeDetails, SecondFactorMethod } from './method.ts';

/** Longest assertion (the JSON a browser's `navigator.credentials.get` gives) looked at. */
export const MAX_WEBAUTHN_ANSWER_LENGTH = 8192;

export const isWebAuthnEnabled = (user: User, s: TwoFactorSettings) => s.webauthnEnabled !== false && (user.webauthnCredentials ?? 0) > 0;

/**
 * Request options for the user's passkeys; the challenge is stored (short-lived, single use)
 * so that the assertion that answers it is accepted once.
 */
export async function authenticationOptions(deps: TwoFactorDeps, w: WebAuthnDeps, user: User): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const keys = await w.store.list(user.id);
  const options = await generateAuthenticationOptions({
    rpID: w.rpId,
    challenge: new Uint8Array(deps.random.bytes(32)),
    timeout: w.challengeTtl * 1000,
    userVerification: 'preferred',
    allowCredentials: keys.map((k) => ({ id: k.credentialId, transports: k.transports as AuthenticatorTransport[] })),
  });
  const now = deps.clock.now();
  await w.store.addChallenge(user.id, 'authenticate', options.challenge, now + w.challengeTtl * 1000, now, w.maxLiveChallenges);
  return options;
}

/** The assertion as sent (JSON text), if it has the shape of one; anything else is a wrong code. */
function parseAssertion(code: string): AuthenticationResponseJSON | null {
  if (code.length > MAX_WEBAUTHN_ANSWER_LENGTH) return null;
  let v: unknown;
  try {
    v = JSON.parse(code);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const a = v as Partial<AuthenticationResponseJSON>;
  if (typeof a.id !== 'string' || a.id.length > 1024 || typeof a.response !== 'object' || a.response === null) return null;
  return a as AuthenticationResponseJSON;
}

/**
 * One assertion of one of the user's passkeys: its challenge is one this server handed the
 * user and is spent here (by exactly one caller however many send it at once), the origin
 * and relying party are this server's, the signature is the stored key's, and the counter
 * moved forward.
 */
export async function verifyAssertion(deps: TwoFactorDeps, w: WebAuthnDeps, user: User, code: string): Promise<boolean> {
  const assertion = parseAssertion(code);
  if (!assertion) return false;
  const key = await w.store.byCredentialId(user.id, assertion.id);
  if (!key) return false;
  const now = deps.clock.now();
  try {
    const { verified, authenticationInfo } = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: (challenge) => w.store.consumeChallenge(user.id, 'authenticate', challenge, now),
      expectedOrigin: w.origin,
      expectedRPID: w.rpId,
      requireUserVerification: false,
      credential: {
        id: key.credentialId,
        publicKey: new Uint8Array(Buffer.from(key.publicKey, 'base64url')),
        counter: key.counter,
        transports: key.transports as AuthenticatorTransport[],
      },
    });
    return verified && await w.store.used(key.id, key.counter, authenticationInfo.newCounter, now);
  } catch {
    // A malformed or mismatching assertion is a wrong answer, never an error of the server.
    return false;
  }
}

/** A passkey or security key (WebAuthn); its answer is the assertion JSON. */
export const webauthnMethod: SecondFactorMethod = {
  name: 'webauthn',
  answers: 'webauthn',
  isEnabled: isWebAuthnEnabled,
  accepts: () => true,
  async challenge(deps, user, available): Promise<ChallengeDetails> {
    const details: ChallengeDetails = { method: 'webauthn', codeGenerated: false, availableMethods: available };
    if (deps.webauthn && isWebAuthnEnabled(user, deps.settings)) details.webauthn = await authenticationOptions(deps, deps.webauthn, user);
    return details;
  },
  verify: async (deps, user, code) => (deps.webauthn ? verifyAssertion(deps, deps.webauthn, user, code) : false),
  slow: true,
};
