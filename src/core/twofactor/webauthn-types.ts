// What the passkey method (methods/webauthn.ts) and its operations need from storage and
// settings; the SQL adapter is src/store/webauthn.ts.

export interface StoredPasskey {
  id: string;
  userId: string;
  /** base64url, as the browser reports it. */
  credentialId: string;
  /** base64url COSE public key. */
  publicKey: string;
  counter: number;
  transports: string[];
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export type ChallengePurpose = 'register' | 'authenticate';

export interface WebAuthnStore {
  list(userId: string): Promise<StoredPasskey[]>;
  byCredentialId(userId: string, credentialId: string): Promise<StoredPasskey | null>;
  add(p: StoredPasskey, max: number): Promise<boolean>;
  remove(userId: string, id: string): Promise<boolean>;
  used(id: string, oldCounter: number, newCounter: number, now: number): Promise<boolean>;
  addChallenge(userId: string, purpose: ChallengePurpose, challenge: string, expiresAt: number, now: number, maxLive: number): Promise<void>;
  consumeChallenge(userId: string, purpose: ChallengePurpose, challenge: string, now: number): Promise<boolean>;
}

export interface WebAuthnDeps {
  store: WebAuthnStore;
  /** The relying party: the site's domain (`TWOFOLD_WEBAUTHN_RP_ID`). */
  rpId: string;
  /** The origin the browser must report (`TWOFOLD_WEBAUTHN_ORIGIN`). */
  origin: string;
  rpName: string;
  /** Seconds a challenge stays usable. */
  challengeTtl: number;
  /** Live challenges kept per user and purpose. */
  maxLiveChallenges: number;
}
