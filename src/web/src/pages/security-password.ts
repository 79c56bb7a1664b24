import { api } from '../api.ts';
import { busy, field, h, markInvalid, messageArea } from '../dom.ts';
import { describeError } from '../messages.ts';
import { withSecondFactor } from '../step-up.ts';
import type { SectionContext } from './security.ts';

export function passwordSection(ctx: SectionContext): HTMLElement {
  const password = h('input', { name: 'new-password', type: 'password', autocomplete: 'new-password', required: true, maxlength: 1024 });
  const again = h('input', { name: 'repeat-password', type: 'password', autocomplete: 'new-password', required: true, maxlength: 1024 });
  const error = messageArea('alert');
  const info = messageArea('status');
  const form: HTMLFormElement = h('form', { class: 'stack', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); void change(); } },
    field('New password', password),
    field('New password again', again),
    error, info,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Change password')),
  );

  async function change(): Promise<void> {
    info.show(null);
    markInvalid(password, null);
    markInvalid(again, null);
    if (!password.value) {
      error.show('Type the new password.');
      markInvalid(password, error);
      password.focus();
      return;
    }
    if (password.value !== again.value) {
      error.show('The two passwords are not the same.');
      markInvalid(again, error);
      again.focus();
      return;
    }
    error.show(null);
    await busy(form, async () => {
      try {
        const newPassword = password.value;
        const done = await withSecondFactor(
          (twoFactor) => api('POST', '/api/v1/users.updateOwnBasicInfo', { body: { data: { newPassword } }, twoFactor }),
          { reason: 'To change your password, confirm it is you.', emails: ctx.verifiedEmails },
        );
        if (!done) return;
        password.value = '';
        again.value = '';
        info.show('Your password is changed. Other devices were signed out; this one stays signed in.');
      } catch (e) {
        error.show(describeError(e));
      }
    });
  }

  return h('section', { class: 'card', 'aria-labelledby': 'password-title' },
    h('h2', { id: 'password-title' }, 'Password'),
    h('p', { class: 'hint' }, 'Changing it asks for your second factor (or your current password if you have none).'),
    form);
}
