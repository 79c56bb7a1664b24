// Account security: email codes, the authenticator app with backup codes, the password.
// Each section re-reads the account after a change, so what is shown is what the server has.
import type { Me } from '../../../contract/api.ts';
import { api, getSession } from '../api.ts';
import { h } from '../dom.ts';
import { flashMessage, navigate } from '../router.ts';
import { emailSection } from './security-email.ts';
import { passkeysSection } from './security-passkeys.ts';
import { passwordSection } from './security-password.ts';
import { totpSection } from './security-totp.ts';

// The account as `GET /api/v1/me` answers it: the contract's shape, shared with the server.
export type { Me };

/** users.2fa.enrolment: the second factors the user has, and whether their role must have one. */
interface Enrolment {
  methods: string[];
  required: boolean;
  mustEnrolFirst: boolean;
}

/** Nudges a user with no second factor; says so plainly when their role requires one first. */
function unprotectedBanner(enrolment: Enrolment): HTMLElement | string {
  if (enrolment.methods.length > 0) return '';
  return h('section', { class: `card banner msg warn${enrolment.mustEnrolFirst ? ' required' : ''}`, 'aria-labelledby': 'banner-title', 'data-testid': 'no-2fa-banner' },
    h('h2', { id: 'banner-title' }, enrolment.mustEnrolFirst ? 'Set up a second factor to continue' : 'Your account has no second factor'),
    h('p', {}, enrolment.mustEnrolFirst
      ? 'Accounts with your role must have a second factor. Until you set up an authenticator app, codes by email or a passkey below, nothing else works.'
      : 'Anyone who learns your password can sign in as you. Set up an authenticator app, codes by email or a passkey below: it takes a minute.'));
}

export interface SectionContext {
  me: Me;
  verifiedEmails: string[];
  /** Reloads the page's data and shows `message` at the top. */
  refresh(message?: string): Promise<void>;
}

export async function securityPage(): Promise<Node> {
  if (!getSession()) {
    navigate('/login', undefined, true);
    return h('p', {}, 'Loading…');
  }
  const root = h('div', { class: 'security' });
  const flash = flashMessage();

  async function load(message?: HTMLElement | null): Promise<void> {
    const [me, enrolment] = await Promise.all([
      api<Me>('GET', '/api/v1/me'),
      api<Enrolment>('GET', '/api/v1/users.2fa.enrolment'),
    ]);
    const ctx: SectionContext = {
      me,
      verifiedEmails: me.emails.filter((e) => e.verified).map((e) => e.address),
      async refresh(text) {
        await load(text ? h('p', { role: 'status', class: 'msg info', tabindex: -1, 'data-flash': '' }, text) : null);
        root.querySelector<HTMLElement>('[data-flash]')?.focus();
      },
    };
    const primary = me.emails[0]?.address;
    root.replaceChildren(
      h('h1', { tabindex: -1 }, 'Account security'),
      h('p', { class: 'who' }, `Signed in as ${me.username}`, primary ? ` (${primary})` : ''),
      message ?? '',
      unprotectedBanner(enrolment),
      emailSection(ctx),
      await totpSection(ctx),
      await passkeysSection(ctx),
      passwordSection(ctx),
      enrolment.mustEnrolFirst ? '' : h('p', {}, h('a', { href: '/security/sessions', 'data-link': '' }, 'Sessions, access tokens and recent activity')),
    );
  }

  await load(flash);
  return root;
}
