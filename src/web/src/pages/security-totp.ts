// The authenticator app: set up (QR code and key, confirm with a code, backup codes shown
// once), backup codes left, new backup codes, turn off.
import { api, ApiError } from '../api.ts';
import { busy, field, focusSoon, h, markInvalid, messageArea } from '../dom.ts';
import { describeError } from '../messages.ts';
import type { Answer } from '../code-prompt.ts';
import { promptForCode, withSecondFactor } from '../step-up.ts';
import { backupCodesPanel } from './backup-codes.ts';
import type { SectionContext } from './security.ts';

interface Enrolment {
  secret: string;
  url: string;
  qrCode?: string;
}

/** Groups of four, the way authenticator apps show keys; spaces are ignored when typed. */
const grouped = (secret: string) => secret.replace(/(.{4})/g, '$1 ').trim();

// Disable and regenerate take the code as their argument (Rocket.Chat's 2fa:* calls);
// the app's code or a backup code both work there. With email codes on, a lost phone is no
// dead end: the prompt also offers an emailed code, sent in the 2FA headers instead.
const appOrBackup = { method: 'totp', availableMethods: ['totp'] };

/** Calls `path` with the app's (or a backup) code in the body, or an emailed code in the headers. */
function appCodeCall<T>(path: '/api/v1/users.totp.disable' | '/api/v1/users.totp.regenerateCodes', emailToo: boolean, reason: string, emails: string[]) {
  const call = (answer: Answer) => (answer.method === 'email'
    ? api<T>('POST', path, { twoFactor: { answer: { code: answer.code, method: 'email' } } })
    : api<T>('POST', path, { body: { code: answer.code } }));
  const challenge = emailToo ? { method: 'totp', availableMethods: ['totp', 'email'] } : appOrBackup;
  return promptForCode(challenge, call, {
    reason, emails,
    // Naming the method without a code makes the server mail one (answered with totp-required, method email).
    ...(emailToo ? { switchToEmail: () => api<T>('POST', path, { twoFactor: { answer: { method: 'email' } } }) } : {}),
  });
}

export async function totpSection(ctx: SectionContext): Promise<HTMLElement> {
  const on = ctx.me.services.totp.enabled;
  const emailOn = ctx.me.services.email2fa.enabled;
  const error = messageArea('alert');
  const section = h('section', { class: 'card', 'aria-labelledby': 'totp-title' }, h('h2', { id: 'totp-title' }, 'Authenticator app'));
  const body = h('div', { class: 'stack' });
  section.append(body, error);

  const run = (work: () => Promise<unknown>) => async () => {
    error.show(null);
    try {
      await busy(section, work);
    } catch (e) {
      error.show(describeError(e));
    }
  };

  function showCodes(codes: string[], done: string): void {
    body.replaceChildren(backupCodesPanel(codes, () => void ctx.refresh(done)));
  }

  if (!on) {
    body.append(
      h('p', { class: 'state', 'data-testid': 'totp-state' }, h('span', { class: 'badge off' }, 'Off'),
        ' An app on your phone shows a new 6-digit code every 30 seconds. Any app that supports time-based codes (TOTP) works.'),
      h('div', { class: 'actions' }, h('button', {
        type: 'button', class: 'primary',
        onclick: run(async () => {
          const enrolment = await withSecondFactor((twoFactor) => api<Enrolment>('POST', '/api/v1/users.totp.enable', { twoFactor }), {
            reason: 'To set up an authenticator app, confirm it is you.', emails: ctx.verifiedEmails,
          });
          if (enrolment) showSetup(enrolment);
        }),
      }, 'Set up authenticator app')),
    );
    return section;
  }

  const left = await api<{ remaining: number }>('GET', '/api/v1/users.totp.codesRemaining').then((r) => r.remaining, () => null);
  body.append(
    h('p', { class: 'state', 'data-testid': 'totp-state' }, h('span', { class: 'badge on' }, 'On'), ' Signing in asks for a code from your app.'),
    left === null ? '' : h('p', { 'data-testid': 'codes-left', class: left <= 3 ? 'msg warn' : '' },
      `Backup codes left: ${left}.`, left <= 3 ? ' Make new ones soon, so you are not locked out if you lose your phone.' : ''),
    h('div', { class: 'actions' },
      h('button', {
        type: 'button',
        onclick: run(async () => {
          const r = await appCodeCall<{ codes: string[] }>('/api/v1/users.totp.regenerateCodes', emailOn,
            'To make new backup codes, confirm it is you. Your old backup codes stop working.', ctx.verifiedEmails);
          if (r) showCodes(r.codes, 'You have 12 new backup codes.');
        }),
      }, 'Make new backup codes'),
      h('button', {
        type: 'button', class: 'danger',
        onclick: run(async () => {
          const r = await appCodeCall<{ success: true }>('/api/v1/users.totp.disable', emailOn,
            'To turn off the authenticator app, confirm it is you.', ctx.verifiedEmails);
          if (r) await ctx.refresh('The authenticator app is off. Its backup codes no longer work.');
        }),
      }, 'Turn off authenticator app'),
    ),
  );
  return section;

  function showSetup(enrolment: Enrolment): void {
    const code = h('input', { name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 9, required: true, spellcheck: 'false' });
    const formError = messageArea('alert');
    const copied = messageArea('status');
    const form: HTMLFormElement = h('form', { class: 'stack', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); void confirm(); } },
      h('h3', {}, '2. Type the code the app shows'),
      field('6-digit code', code),
      formError,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'Turn on'),
        h('button', { type: 'button', onclick: () => void ctx.refresh() }, 'Cancel')),
    );
    body.replaceChildren(
      h('h3', {}, '1. Add this account to your app'),
      h('p', {}, 'Scan the QR code with your authenticator app.'),
      enrolment.qrCode ? h('img', { class: 'qr', src: enrolment.qrCode, width: 200, height: 200, alt: 'QR code that adds this account to an authenticator app' }) : '',
      // On the phone itself there is nothing to scan: the otpauth link opens the app directly.
      h('p', {}, h('a', { href: enrolment.url, 'data-testid': 'otpauth-link' }, 'On this phone? Open the authenticator app')),
      h('p', {}, 'Cannot scan it? Type this key into the app instead:'),
      h('p', { class: 'secret-row' },
        h('code', { class: 'secret', 'data-testid': 'totp-secret' }, grouped(enrolment.secret)),
        h('button', {
          type: 'button', class: 'link',
          onclick: () => void navigator.clipboard.writeText(enrolment.secret).then(() => copied.show('Key copied.'), () => copied.show('Copying is not allowed here; select the key instead.')),
        }, 'Copy key')),
      copied,
      form,
    );
    focusSoon(code);

    async function confirm(): Promise<void> {
      const digits = code.value.replace(/\D/g, '');
      if (digits.length !== 6) {
        formError.show('Type the 6 digits the app shows.');
        markInvalid(code, formError);
        code.focus();
        return;
      }
      formError.show(null);
      markInvalid(code, null);
      await busy(form, async () => {
        try {
          const r = await api<{ codes: string[] }>('POST', '/api/v1/users.totp.validate', { body: { code: digits } });
          showCodes(r.codes, 'The authenticator app is on.');
        } catch (e) {
          formError.show(e instanceof ApiError && (e.code === 'invalid-totp' || e.code === 'totp-invalid')
            ? 'That code is not right. Check the time on your phone, wait for a new code and try again.'
            : describeError(e));
          markInvalid(code, formError);
          code.value = '';
          code.focus();
        }
      });
    }
  }
}
