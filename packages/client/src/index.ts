// @twofold/client: REST and DDP clients for Twofold that answer second-factor challenges
// through one `onChallenge` hook.
export { RestClient, type RestClientOptions, type RequestOptions, type SessionChange } from './rest.ts';
export { DdpClient, socketUrl, type DdpClientOptions, type WebSocketConstructor } from './ddp.ts';
export { TwofoldClientError, TwoFactorRequiredError, TwoFactorLockedError, RateLimitError } from './errors.ts';
export { DEFAULT_MAX_ATTEMPTS } from './challenge.ts';
export { sha256Hex } from './digest.ts';
export type * from './types.ts';
