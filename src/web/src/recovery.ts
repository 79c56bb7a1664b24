// The way back for a suspended second factor (`error-2fa-suspended`: too many wrong codes in
// a row): ask for a recovery code by email, type it, and the suspension is lifted. The server
// answers the same whether or not the name is known, so the page does too.
import { api, ApiError } from './api.ts';
import { busy, field, focusSoon, h, markInvalid, messageArea } from './dom.ts';
import { describeError } from './messages.ts';

export function recoveryPanel(emailOrUsername: string, done: () => void): HTMLElement {
  const error = messageArea('alert');
  const info = messageArea('status');
  const heading = h('h3', { tabindex: -1 }, 'Get back in');
  const root = h('div', { class: 'stack recovery', 'data-testid': 'recovery' });

  const adminOnly = () => root.replaceChildren(heading,
    h('p', {}, 'Recovery by email is not available here. Ask your administrator to reset your second factor; your account and password stay as they are.'));

  function askForCode(): void {
    const send = h('button', { type: 'button', class: 'primary', onclick: () => void sendCode() }, 'Email me a recovery code');
    root.replaceChildren(heading,
      h('p', {}, 'We can email a one-time recovery code to the verified address on your account. It lifts the suspension; your methods and backup codes stay as they are.'),
      error, h('div', { class: 'actions' }, send));

    async function sendCode(): Promise<void> {
      error.show(null);
      try {
        await busy(root, () => api('POST', '/api/v1/users.2fa.recover', { body: { emailOrUsername }, auth: false }));
        typeCode();
      } catch (e) {
        // A server without the recovery call: the administrator is the way back.
        if (e instanceof ApiError && (e.status === 404 || e.code === 'error-not-found')) return adminOnly();
        error.show(describeError(e));
      }
    }
  }

  function typeCode(): void {
    const input = h('input', { name: 'recovery-code', autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 11, required: true, spellcheck: 'false' });
    const form: HTMLFormElement = h('form', { class: 'stack', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); void lift(); } },
      field('Recovery code', input, 'The 6-digit code from the email.'),
      error, info,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Lift the suspension')));
    root.replaceChildren(heading, h('p', {}, 'If the account has a verified address, a recovery code is on its way. Check your email.'), form);
    focusSoon(input);

    async function lift(): Promise<void> {
      const code = input.value.replace(/\D/g, '');
      if (code.length !== 6) {
        error.show('Type the 6 digits from the email.');
        markInvalid(input, error);
        input.focus();
        return;
      }
      error.show(null);
      markInvalid(input, null);
      await busy(form, async () => {
        try {
          await api('POST', '/api/v1/users.2fa.recover', { body: { emailOrUsername, code }, auth: false });
          done();
        } catch (e) {
          error.show(e instanceof ApiError && e.code === 'error-invalid-recovery-code'
            ? 'That recovery code is not right. Check the newest email and try again.'
            : describeError(e));
          markInvalid(input, error);
          input.focus();
        }
      });
    }
  }

  askForCode();
  return root;
}
