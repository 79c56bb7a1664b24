// Sign-in: username or email and password, then the second factor when the server asks: the
// SDK's login asks its hook, which shows the code prompt in place of the form (step-up.ts).
import { ApiError, client, getDeviceToken, getSession, loadInfo, setDeviceToken, type TwoFactor } from '../api.ts';
import { codePrompt, type Challenge, type PromptHandlers } from '../code-prompt.ts';
import { busy, everySecondUntil, field, h, markInvalid, messageArea } from '../dom.ts';
import { countdown } from '../prompt-text.ts';
import { describeError, maskEmail } from '../messages.ts';
import { flashMessage, navigate } from '../router.ts';
import { recoveryPanel } from '../recovery.ts';
import { promptDriven, sendEmailCode } from '../step-up.ts';

export function loginPage(): Node {
  if (getSession()) {
    navigate('/security', undefined, true);
    return h('p', {}, 'Loading…');
  }
  const card = h('section', { class: 'card', 'aria-labelledby': 'login-title' });
  let flash = flashMessage();
  let remembered = '';

  function showCredentials(): void {
    const user = h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 254, 'data-autofocus': '', autocapitalize: 'off', spellcheck: 'false' });
    user.value = remembered;
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 1024 });
    const error = messageArea('alert');
    const info = messageArea('status');
    const timer = h('p', { class: 'countdown', 'data-testid': 'countdown', hidden: true });
    const submitButton = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
    let blocked = false;
    const form: HTMLFormElement = h('form', { class: 'stack', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); void signIn(); } },
      field('Username or email', user),
      field('Password', password),
      error, timer, info,
      h('div', { class: 'actions' }, submitButton),
    );

    /** Too many wrong passwords: Sign in waits, with the time left in view. */
    function holdBack(seconds: number): void {
      blocked = true;
      everySecondUntil(form, seconds, (left) => {
        submitButton.disabled = true;
        timer.hidden = false;
        timer.textContent = `You can sign in again in ${countdown(left)}.`;
      }, () => {
        blocked = false;
        submitButton.disabled = false;
        timer.hidden = true;
        info.show('You can sign in again now.');
      });
    }
    const shownFlash = flash;
    flash = null;
    card.replaceChildren(
      h('h1', { id: 'login-title', tabindex: -1 }, 'Sign in'),
      shownFlash ?? '',
      form,
      h('p', { class: 'hint' }, 'New here? ', h('a', { href: '/register', 'data-link': '' }, 'Create an account'), '.'),
    );

    async function signIn(): Promise<void> {
      if (blocked) return;
      info.show(null);
      if (!user.value.trim() || !password.value) {
        const missing = user.value.trim() ? password : user;
        error.show('Type your username or email and your password.');
        markInvalid(missing, error);
        missing.focus();
        return;
      }
      error.show(null);
      markInvalid(user, null);
      markInvalid(password, null);
      remembered = user.value.trim();
      const credentials = { user: remembered, password: password.value };
      let wait = 0;
      await busy(form, async () => {
        try {
          // The second factor, when asked for, is answered in the prompt that replaces this form.
          const days = (await loadInfo())?.rememberDeviceDays ?? 0;
          const signedIn = await promptDriven((twoFactor) => attempt(credentials, twoFactor), {
            open: (challenge, handlers) => showSecondFactor(credentials, challenge, handlers, days),
            close() {},
            // The prompt shows every failure of its answers: the password was right, the code is what is left.
            keeps: () => true,
          });
          // The person cancelled: back to the form, name kept.
          if (signedIn === undefined) showCredentials();
        } catch (e) {
          if (e instanceof ApiError && e.code === 'error-2fa-suspended') return showSuspended(credentials.user);
          error.show(describeError(e));
          markInvalid(password, error);
          password.value = '';
          password.focus();
          if (e instanceof ApiError && e.code.startsWith('error-login-blocked')) wait = Number(e.details.timeToReset) || 0;
        }
      });
      // After busy() has given the buttons back: the block holds Sign in until it ends.
      if (wait > 0 && form.isConnected) holdBack(wait);
    }
  }

  /**
   * The password stays in this closure only while the second factor is asked for. The SDK
   * sends it as its SHA-256 digest, and a passkey's assertion in x-2fa-code.
   */
  async function attempt(credentials: { user: string; password: string }, twoFactor: TwoFactor): Promise<true> {
    const signedIn = await client.login(credentials.user, credentials.password, {
      // A remembered device lets the server skip the code; it decides whether this one still counts.
      deviceToken: getDeviceToken(),
      onChallenge: twoFactor.onChallenge,
      answer: twoFactor.answer,
    });
    if (signedIn.deviceToken) setDeviceToken(signedIn.deviceToken);
    navigate('/security', 'You are signed in.');
    return true;
  }

  function showSecondFactor(credentials: { user: string; password: string }, challenge: Challenge, handlers: Pick<PromptHandlers, 'submit' | 'switchToEmail' | 'cancel'>, days: number): void {
    const prompt = codePrompt(challenge, {
      ...handlers,
      rememberDevice: days > 0 ? `Remember this device for ${days === 1 ? '1 day' : `${days} days`}` : undefined,
      // The address the person typed reads best; signing in by username, the prompt shows
      // the masked addresses the challenge names (details.destinations).
      destination: credentials.user.includes('@') ? [maskEmail(credentials.user)] : undefined,
      resend: (who) => sendEmailCode(who, false),
      account: credentials.user,
    });
    card.replaceChildren(
      h('h1', { id: 'login-title', tabindex: -1 }, 'Two-step verification'),
      h('p', {}, `Signing in as ${credentials.user}.`),
      prompt.element,
    );
    prompt.focus();
  }

  /** Suspended at sign-in (the password was right): the way back, then sign in again. */
  function showSuspended(who: string): void {
    const title = h('h1', { id: 'login-title', tabindex: -1 }, 'Two-step verification is suspended');
    card.replaceChildren(title,
      h('p', { role: 'alert', class: 'msg error' }, 'After too many wrong codes in a row, codes are not accepted for this account until it is recovered.'),
      recoveryPanel(who, () => {
        flash = h('p', { role: 'status', class: 'msg info', tabindex: -1, 'data-flash': '' }, 'The suspension is lifted. Sign in again.');
        showCredentials();
      }),
      h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => showCredentials() }, 'Back to sign in')));
    title.focus();
  }

  showCredentials();
  return card;
}
