import { accountOperations } from './account.ts';
import { resetSecondFactorsOperation } from './admin-reset.ts';
import { audit2faOperation } from './audit.ts';
import { deviceOperations } from './devices.ts';
import { messageOperations } from './messages.ts';
import { mySecurityOperations } from './my-security.ts';
import { personalTokenOperations } from './personal-tokens.ts';
import { recoverSecondFactorOperation } from './recovery.ts';
import { Registry } from './registry.ts';
import { loginOperation, logoutOperation, meOperation } from './session.ts';
import { totpOperations } from './totp.ts';
import { twoFactorEmailOperations } from './twofactor-email.ts';
import { webauthnOperations } from './webauthn.ts';

/** Every operation Twofold offers; the transports bind to exactly this list. */
export function buildRegistry(): Registry {
  const registry = new Registry();
  registry.add(loginOperation, logoutOperation, meOperation);
  registry.add(...accountOperations);
  registry.add(...twoFactorEmailOperations);
  registry.add(recoverSecondFactorOperation);
  registry.add(...personalTokenOperations);
  registry.add(...totpOperations);
  registry.add(...messageOperations);
  registry.add(audit2faOperation);
  registry.add(resetSecondFactorsOperation);
  registry.add(...mySecurityOperations);
  registry.add(...deviceOperations);
  registry.add(...webauthnOperations);
  return registry;
}
