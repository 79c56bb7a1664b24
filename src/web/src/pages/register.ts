// Create an account; the server mails a link that proves the address (see verify-email.ts).
import { api, ApiError } from '../api.ts';
import { busy, field, h, markInvalid, messageArea } from '../dom.ts';
import { describeError } from '../messages.ts';

export function registerPage(): Node {
  const card = h('section', { class: 'card', 'aria-labelledby': 'register-title' });
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 64, pattern: '[A-Za-z0-9._\\-]+', autocapitalize: 'off', spellcheck: 'false', 'data-autofocus': '' });
  const name = h('input', { name: 'name', autocomplete: 'name', maxlength: 128 });
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', required: true, maxlength: 254 });
  const password = h('input', { name: 'new-password', type: 'password', autocomplete: 'new-password', required: true, maxlength: 1024 });
  const again = h('input', { name: 'repeat-password', type: 'password', autocomplete: 'new-password', required: true, maxlength: 1024 });
  const error = messageArea('alert');
  const form: HTMLFormElement = h('form', { class: 'stack', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); void submit(); } },
    field('Username', username, 'Letters, digits, dots, dashes and underscores.'),
    field('Name (optional)', name),
    field('Email', email, 'We send a link to confirm it; codes can go there later.'),
    field('Password', password),
    field('Password again', again),
    error,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create account')),
  );

  async function submit(): Promise<void> {
    for (const i of [username, email, password, again]) markInvalid(i, null);
    const refuse = (input: HTMLInputElement, text: string) => {
      error.show(text);
      markInvalid(input, error);
      input.focus();
    };
    const missing = [username, email, password, again].find((i) => !i.value.trim());
    if (missing) return refuse(missing, 'Please fill in every field.');
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(username.value.trim())) return refuse(username, 'A username may only have letters, digits, dots, dashes and underscores.');
    if (password.value !== again.value) return refuse(again, 'The two passwords are not the same.');
    error.show(null);
    await busy(form, async () => {
      try {
        const body: Record<string, string> = { username: username.value.trim(), email: email.value.trim(), pass: password.value };
        if (name.value.trim()) body.name = name.value.trim();
        await api('POST', '/api/v1/users.register', { body, auth: false });
        const done = h('h1', { id: 'register-title', tabindex: -1 }, 'Check your email');
        card.replaceChildren(done,
          h('p', {}, `We sent a link to ${body.email}. Open it to confirm the address; then you can get sign-in codes by email.`),
          h('p', {}, h('a', { href: '/login', 'data-link': '', class: 'button primary' }, 'Sign in')));
        done.focus();
      } catch (e) {
        error.show(describeError(e));
        // The server names what it refused: the field that holds it is marked.
        const code = e instanceof ApiError ? e.code : '';
        const culprit = code === 'error-username-in-use' ? username : code === 'error-invalid-email' || code === 'error-email-in-use' ? email : null;
        if (culprit) markInvalid(culprit, error);
      }
    });
  }

  card.append(h('h1', { id: 'register-title', tabindex: -1 }, 'Create an account'), form,
    h('p', { class: 'hint' }, 'Have an account? ', h('a', { href: '/login', 'data-link': '' }, 'Sign in'), '.'));
  return card;
}
