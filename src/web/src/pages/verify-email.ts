// The link in the verification mail: /verify-email#token=… (a fragment, so the token never
// reaches a server log or a Referer header). It is read once and removed from the address bar.
import { api, getSession } from '../api.ts';
import { h } from '../dom.ts';
import { describeError } from '../messages.ts';

export async function verifyEmailPage(): Promise<Node> {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  history.replaceState(null, '', '/verify-email');
  const next = getSession()
    ? h('a', { href: '/security', 'data-link': '', class: 'button primary' }, 'Go to your security settings')
    : h('a', { href: '/login', 'data-link': '', class: 'button primary' }, 'Sign in');
  const card = (title: string, text: string, ok: boolean) => h('section', { class: 'card', 'aria-labelledby': 'verify-title' },
    h('h1', { id: 'verify-title', tabindex: -1 }, title),
    h('p', { role: ok ? 'status' : 'alert', class: ok ? 'msg info' : 'msg error' }, text),
    h('p', {}, next));
  if (!token) return card('Email not verified', 'This link is incomplete. Open the whole link from the email.', false);
  try {
    const r = await api<{ email: string }>('POST', '/api/v1/users.verifyEmail', { body: { token }, auth: false });
    return card('Email verified', `Your address ${r.email} is confirmed. You can now turn on sign-in codes by email.`, true);
  } catch (e) {
    return card('Email not verified', describeError(e), false);
  }
}
