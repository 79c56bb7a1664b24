// "Remember this device" (issue 14 §4): issuing, finding and forgetting device tokens. The
// decision whether a device lets a sign-in skip its second factor is the core's (decide.ts).
import type { User } from '../../core/accounts.ts';
import { newId, newToken } from '../../core/random.ts';
import { sha256Hex } from '../../core/secrets.ts';
import type { RememberedDevice } from '../../store/devices.ts';
import type { Deps } from '../deps.ts';
import type { CallContext, OperationContext } from '../registry.ts';

/** Longest device token read from a client: ours are far shorter, anything longer is not looked up. */
export const MAX_DEVICE_TOKEN_LENGTH = 256;

/**
 * The browser a device token is bound to: its user agent only, since a laptop's address
 * changes from network to network. Copying the token to another browser is not enough.
 */
export const deviceFingerprint = (ctx: Pick<OperationContext, 'userAgent'>) => sha256Hex(`twofold-device\0${ctx.userAgent}`);

export async function findRememberedDevice(deps: Pick<Deps, 'devices' | 'keys'>, token: string): Promise<RememberedDevice | null> {
  if (token.length === 0 || token.length > MAX_DEVICE_TOKEN_LENGTH) return null;
  return deps.devices.byTokenHash(deps.keys.hashToken(token));
}

/** A new device token for the user and this browser: returned once, stored only as its hash. */
export async function rememberDevice(
  ctx: Pick<CallContext<'settings' | 'random' | 'clock' | 'keys' | 'devices'>, 'deps' | 'clientAddress' | 'userAgent'>, user: User,
): Promise<string | null> {
  const { settings, random, clock, keys, devices } = ctx.deps;
  if (settings.rememberDeviceDays <= 0) return null;
  const token = newToken(random);
  const now = clock.now();
  await devices.insert({
    id: newId(random), tokenHash: keys.hashToken(token), userId: user.id, fingerprint: deviceFingerprint(ctx),
    createdAt: now, expiresAt: now + settings.rememberDeviceDays * 86_400_000,
    clientAddress: ctx.clientAddress, userAgent: ctx.userAgent,
  }, settings.rememberDeviceMax);
  return token;
}
