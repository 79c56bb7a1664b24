// @twofold/client/passkey: answering a challenge with a passkey in the browser. A separate
// entry point, so the core stays free of the DOM and of @simplewebauthn/browser: only a page
// that offers passkeys bundles them.
import { startAuthentication, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import type { ChallengeHook, ChallengeReply } from './types.ts';

/**
 * Asks the browser's authenticator for an assertion of the server's request options
 * (`details.webauthn` of a challenge) and answers with it as the code (method `webauthn`).
 */
export async function passkeyReply(requestOptions: Record<string, unknown>): Promise<ChallengeReply & { code: string }> {
  const response = await startAuthentication({ optionsJSON: requestOptions as unknown as PublicKeyCredentialRequestOptionsJSON });
  return { code: JSON.stringify(response), method: 'webauthn' };
}

/**
 * A hook that answers with a passkey whenever the server offers one (`webauthn` among the
 * available methods, with its request options), and leaves every other challenge to `otherwise`
 * (no passkey: give up). After a refused assertion the next challenge carries new options, so
 * the passkey is simply asked again.
 */
export function answerWithPasskey(otherwise?: ChallengeHook): ChallengeHook {
  return (ctx) => {
    const options = ctx.details.webauthn;
    if (ctx.details.availableMethods?.includes('webauthn') && options && typeof options === 'object') return passkeyReply(options);
    return otherwise ? otherwise(ctx) : null;
  };
}
