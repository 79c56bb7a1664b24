import { api, ENROLMENT_REQUIRED, getSession, loadInfo, SESSION_ENDED, SESSION_KEY, setSession } from './api.ts';
import { h } from './dom.ts';
import { loginPage } from './pages/login.ts';
import { registerPage } from './pages/register.ts';
import { securityPage } from './pages/security.ts';
import { sessionsPage } from './pages/sessions.ts';
import { verifyEmailPage } from './pages/verify-email.ts';
import { navigate, startRouter } from './router.ts';

const ENROLMENT_MESSAGE = 'Your account needs a second factor before you can do anything else. Set one up below.';

async function signOut(): Promise<void> {
  try {
    await api('POST', '/api/v1/logout');
  } catch {
    // Already gone on the server: forgetting it here is all that is left to do.
  }
  setSession(null);
  navigate('/login', 'You are signed out.');
}

function renderNav(): void {
  const nav = document.getElementById('nav')!;
  const signedIn = getSession() !== null;
  nav.replaceChildren(h('ul', {},
    signedIn
      ? [h('li', {}, h('a', { href: '/security', 'data-link': '' }, 'Security')),
        h('li', {}, h('a', { href: '/security/sessions', 'data-link': '' }, 'Sessions')),
        h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => void signOut() }, 'Sign out'))]
      : [h('li', {}, h('a', { href: '/login', 'data-link': '' }, 'Sign in')),
        h('li', {}, h('a', { href: '/register', 'data-link': '' }, 'Create account'))],
  ));
}

window.addEventListener('twofold:rendered', renderNav);
window.addEventListener(SESSION_ENDED, () => navigate('/login', 'Your session has ended. Please sign in again.'));
// The session is shared by this browser's tabs: signing out in one signs every other out too.
window.addEventListener('storage', (e) => {
  if ((e.key === SESSION_KEY || e.key === null) && !getSession() && location.pathname.startsWith('/security')) navigate('/login', 'You are signed out.');
});
window.addEventListener(ENROLMENT_REQUIRED, () => navigate('/security', ENROLMENT_MESSAGE));

// The code lifetime the prompts state comes from the server; a page without it still works.
await loadInfo();

startRouter({
  '/': () => {
    navigate(getSession() ? '/security' : '/login', undefined, true);
    return h('p', {}, 'Loading…');
  },
  '/login': loginPage,
  '/register': registerPage,
  '/security': securityPage,
  '/security/sessions': sessionsPage,
  '/verify-email': verifyEmailPage,
});
