// Users as the rest of Twofold sees them, and their public view (spec §1).
import type { Me } from '../contract/api.ts';

export interface UserEmail {
  address: string;
  verified: boolean;
}

export interface User {
  id: string;
  username: string;
  name: string;
  roles: string[];
  active: boolean;
  requirePasswordChange: boolean;
  createdAt: number;
  passwordHash: string | null;
  emails: UserEmail[];
  email2faEnabled: boolean;
  totpEnabled: boolean;
  totpSecret: string | null; // sealed
  totpPendingSecret: string | null; // sealed
  totpLastStep: number | null;
  /** Registered passkeys and security keys (loaded with the user; absent: none). */
  webauthnCredentials?: number;
}

export const isAdmin = (user: User) => user.roles.includes('admin');
export const verifiedEmails = (user: User) => user.emails.filter((e) => e.verified).map((e) => e.address);

/** What `/me`, the login answer and DDP see of a user: never a hash or secret. */
export function publicUser(user: User, settings: { email2faEnabled: boolean; totpEnabled: boolean }): Me {
  return {
    _id: user.id,
    username: user.username,
    name: user.name,
    emails: user.emails.map((e) => ({ address: e.address, verified: e.verified })),
    roles: [...user.roles],
    status: 'online',
    active: user.active,
    requirePasswordChange: user.requirePasswordChange,
    createdAt: new Date(user.createdAt).toISOString(),
    services: {
      totp: { enabled: settings.totpEnabled && user.totpEnabled },
      email2fa: { enabled: settings.email2faEnabled && user.email2faEnabled },
    },
  };
}

export const USERNAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
// Strict addr-spec (src/core/email-address.ts); deliverability is proven by verification.
export { EMAIL_ADDRESS_PATTERN as EMAIL_PATTERN } from './email-address.ts';
export const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
export const MAX_PASSWORD_LENGTH = 1024;

/** Hides most of an address for callers who did not prove who they are: a•••e@example.com. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1) return '•••';
  const local = address.slice(0, at);
  const domain = address.slice(at);
  if (local.length <= 2) return `${local[0]}•••${domain}`;
  return `${local[0]}•••${local[local.length - 1]}${domain}`;
}
