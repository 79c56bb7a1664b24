// The authenticator app: set up (QR code and key, confirm with a code, backup codes shown
// once), backup codes left, new backup codes, turn off.
import { api, ApiError } from '../api.ts';
import { busy, field, focusSoon, h, markInvalid, messageArea } from '../dom.ts';
import { describeError } from '../messages.ts';
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
// the app's code or a backup code both work there.
const appOrBackup = { method: 'totp', availableMethods: ['totp'] };

export async function totpSection(ctx: SectionContext): Promise<HTMLElement> {
  const on = ctx.me.services.totp.enabled;
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
          const r = await promptForCode(appOrBackup, ({ code }) => api<{ codes: string[] }>('POST', '/api/v1/users.totp.regenerateCodes', { body: { code } }), {
            reason: 'To make new backup codes, confirm it is you. Your old backup codes stop working.',
          });
          if (r) showCodes(r.codes, 'You have 12 new backup codes.');
        }),
      }, 'Make new backup codes'),
      h('button', {
        type: 'button', class: 'danger',
        onclick: run(async () => {
          const r = await promptForCode(appOrBackup, ({ code }) => api('POST', '/api/v1/users.totp.disable', { body: { code } }), {
            reason: 'To turn off the authenticator app, confirm it is you.',
          });
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
