// Passkeys and security keys: add one (named), see them, remove one. Adding asks for the
// second factor first (the server's registerOptions); removing always does.
import { api } from '../api.ts';
import { busy, field, h, messageArea } from '../dom.ts';
import { describeError } from '../messages.ts';
import { describePasskeyError, newPasskey, passkeysSupported } from '../passkeys.ts';
import { withSecondFactor } from '../step-up.ts';
import type { SectionContext } from './security.ts';

interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

const when = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });

export async function passkeysSection(ctx: SectionContext): Promise<HTMLElement> {
  const { passkeys } = await api<{ passkeys: Passkey[] }>('GET', '/api/v1/users.webauthn.list');
  const error = messageArea('alert');
  const section = h('section', { class: 'card', 'aria-labelledby': 'passkeys-title', 'data-testid': 'passkeys' },
    h('h2', { id: 'passkeys-title' }, 'Passkeys and security keys'),
    h('p', { class: 'state' },
      h('span', { class: passkeys.length ? 'badge on' : 'badge off' }, passkeys.length ? 'On' : 'Off'),
      passkeys.length
        ? ` ${passkeys.length === 1 ? 'One passkey' : `${passkeys.length} passkeys`} can confirm it is you instead of a code.`
        : ' Sign in with a passkey or a security key instead of typing a code.'),
  );

  const run = (work: () => Promise<unknown>) => async () => {
    error.show(null);
    try {
      await busy(section, work);
    } catch (e) {
      error.show(describeError(e));
    }
  };

  if (passkeys.length) {
    section.append(h('ul', { class: 'passkeys' }, passkeys.map((p) => h('li', { 'data-testid': 'passkey' },
      h('span', { class: 'name' }, p.name), ' ',
      h('span', { class: 'hint' }, `added ${when(p.createdAt)}${p.lastUsedAt ? `, last used ${when(p.lastUsedAt)}` : ', not used yet'}`), ' ',
      h('button', {
        type: 'button', 'aria-label': `Remove ${p.name}`,
        onclick: run(async () => {
          const done = await withSecondFactor((twoFactor) => api('POST', '/api/v1/users.webauthn.remove', { body: { id: p.id }, twoFactor }), {
            reason: `To remove the passkey “${p.name}”, confirm it is you.`, emails: ctx.verifiedEmails,
          });
          if (done) await ctx.refresh(`The passkey “${p.name}” is removed. Your other sessions were signed out.`);
        }),
      }, 'Remove')))));
  }

  if (!passkeysSupported()) {
    section.append(h('p', { class: 'hint' }, 'This browser cannot use passkeys.'), error);
    return section;
  }
  const name = h('input', { name: 'passkey-name', required: true, maxlength: 64, autocomplete: 'off', value: passkeys.length ? '' : 'My passkey' });
  const form = h('form', {
    class: 'stack', novalidate: true,
    onsubmit: (ev) => {
      ev.preventDefault();
      void run(async () => {
        const label = name.value.trim();
        if (!label) {
          error.show('Give the passkey a name first.');
          name.focus();
          return;
        }
        const started = await withSecondFactor((twoFactor) => api<{ options: Record<string, unknown> }>('POST', '/api/v1/users.webauthn.registerOptions', { twoFactor }), {
          reason: 'To add a passkey, confirm it is you.', emails: ctx.verifiedEmails,
        });
        if (!started) return;
        let response;
        try {
          response = await newPasskey(started.options);
        } catch (e) {
          error.show(describePasskeyError(e));
          return;
        }
        await api('POST', '/api/v1/users.webauthn.register', { body: { name: label, response } });
        await ctx.refresh(`The passkey “${label}” is added. Your other sessions were signed out.`);
      })();
    },
  },
  field('Name of the new passkey', name, 'For example the device or key it lives on.'),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Add a passkey')));
  section.append(form, error);
  return section;
}
