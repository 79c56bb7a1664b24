// Account security: email codes, the authenticator app with backup codes, the password.
// Each section re-reads the account after a change, so what is shown is what the server has.
import type { Me } from '../../../contract/api.ts';
import { api, getSession } from '../api.ts';
import { h } from '../dom.ts';
import { flashMessage, navigate } from '../router.ts';
import { emailSection } from './security-email.ts';
import { passwordSection } from './security-password.ts';
import { totpSection } from './security-totp.ts';

// The account as `GET /api/v1/me` answers it: the contract's shape, shared with the server.
export type { Me };

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
    const me = await api<Me>('GET', '/api/v1/me');
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
      emailSection(ctx),
      await totpSection(ctx),
      passwordSection(ctx),
    );
  }

  await load(flash);
  return root;
}
