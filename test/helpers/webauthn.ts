// A software authenticator for server tests: an ES256 key pair that answers registration
// (`none` attestation) and authentication options as a browser with a security key would.
// The Chromium tests use the browser's own virtual authenticator instead.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();
const b64 = (b: Buffer | Uint8Array | string) => Buffer.from(b).toString('base64url');
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  counter = 0;

  constructor(readonly rpId: string, readonly origin: string) {}

  /** The browser's RegistrationResponseJSON for `options` (PublicKeyCredentialCreationOptionsJSON). */
  register(options: { challenge: string }) {
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    const cose = isoCBOR.encode(new Map<number, number | Uint8Array>([
      [1, 2], [3, -7], [-1, 1], [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))], [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
    ]));
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    // Flags: user present, user verified, attested credential data.
    const authData = Buffer.concat([sha256(this.rpId), Buffer.from([0x45]), u32(this.counter), Buffer.alloc(16), idLength, this.credentialId, Buffer.from(cose)]);
    const clientData = JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: this.origin, crossOrigin: false });
    const attestation = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', new Uint8Array(authData)]]) as never);
    return {
      id: b64(this.credentialId), rawId: b64(this.credentialId), type: 'public-key' as const,
      response: { clientDataJSON: b64(clientData), attestationObject: b64(attestation), transports: ['usb'] },
      clientExtensionResults: {},
    };
  }

  /** The assertion (AuthenticationResponseJSON, as JSON text: the second-factor code) for `options`. */
  assert(options: { challenge: string }, opts: { origin?: string; counter?: number } = {}): string {
    this.counter = opts.counter ?? this.counter + 1;
    const authData = Buffer.concat([sha256(this.rpId), Buffer.from([0x05]), u32(this.counter)]);
    const clientData = JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: opts.origin ?? this.origin, crossOrigin: false });
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.keys.privateKey);
    return JSON.stringify({
      id: b64(this.credentialId), rawId: b64(this.credentialId), type: 'public-key',
      response: { clientDataJSON: b64(clientData), authenticatorData: b64(authData), signature: b64(signature) },
      clientExtensionResults: {},
    });
  }
}
