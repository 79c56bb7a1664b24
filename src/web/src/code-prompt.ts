// The one form for typing a second factor, used by the sign-in page and by the step-up
// dialog: it says which method and where to look, lets the user switch method, ask for a
// new email code, or use a backup code, and shows the server's refusals in words.
import { ApiError } from './api.ts';
import { busy, field, focusSoon, h, messageArea, uid } from './dom.ts';
import { describeError, sha256Hex } from './messages.ts';

/** The server's `details` of a totp-required error (spec §3.3). */
export interface Challenge {
  method: string;
  availableMethods: string[];
  codeGenerated?: boolean;
  emailOrUsername?: string;
}

export function challengeOf(details: Record<string, unknown>): Challenge {
  return {
    method: typeof details.method === 'string' ? details.method : 'totp',
    availableMethods: Array.isArray(details.availableMethods) ? details.availableMethods.filter((m): m is string => typeof m === 'string') : [],
    codeGenerated: details.codeGenerated === true,
    emailOrUsername: typeof details.emailOrUsername === 'string' ? details.emailOrUsername : undefined,
  };
}

export interface Answer {
  code: string;
  method: string;
}

export interface PromptHandlers {
  /** Sends the answer; throws the server's refusal, which the prompt shows. */
  submit(answer: Answer): Promise<void>;
  /** Asks for a challenge by email (the server mails a code). Null: the action went through meanwhile. */
  switchToEmail?(): Promise<Challenge | null>;
  /** Mails a new code; returns where it went. */
  resend?(emailOrUsername: string): Promise<string[]>;
  cancel?(): void;
  /** What the code is for, e.g. "To turn off email codes, confirm it is you." */
  reason?: string | undefined;
  /** Where email codes go, when known. */
  destination?: string[] | undefined;
}

type Mode = 'totp' | 'backup' | 'email' | 'password';

const modeOf = (method: string): Mode => (method === 'email' || method === 'password' ? method : 'totp');

const titles: Record<Mode, string> = {
  totp: 'Enter the code from your authenticator app',
  backup: 'Enter a backup code',
  email: 'Check your email',
  password: 'Confirm with your password',
};

/** Keeps what a person may paste or type around a code ("123-456", "123 456") out of the answer. */
function normalize(mode: Mode, raw: string): string {
  if (mode === 'email' || mode === 'totp') return raw.replace(/\D/g, '');
  if (mode === 'backup') return raw.replace(/\s/g, '');
  return raw;
}

export function codePrompt(first: Challenge, handlers: PromptHandlers): { element: HTMLElement; focus(): void } {
  let challenge = first;
  let mode = modeOf(first.method);
  let destination = handlers.destination?.length ? handlers.destination : null;
  const titleId = uid('prompt-title');
  const root = h('div', { class: 'code-prompt' });
  let input: HTMLInputElement;
  const error = messageArea('alert');
  const info = messageArea('status');

  const whereTo = () => (destination ? destination.join(' and ') : 'the email address on your account');

  function explanation(): string {
    switch (mode) {
      case 'totp': return 'Open your authenticator app and type the 6-digit code it shows for this account.';
      case 'backup': return 'Type one of the backup codes you saved when you set up the app (like abcde-23456; the dash and capitals do not matter). Each code works once.';
      case 'password': return 'You have no second factor set up yet, so your current password stands in for it.';
      case 'email': return challenge.codeGenerated === false
        ? `We already sent a code to ${whereTo()}. Use the newest email, or ask for a new code.`
        : `We sent a code to ${whereTo()}. It is valid for a few minutes.`;
    }
  }

  function makeInput(): HTMLInputElement {
    const common = { name: 'code', required: true, autocomplete: 'one-time-code', spellcheck: 'false', autocapitalize: 'off' };
    switch (mode) {
      case 'totp': return h('input', { ...common, inputmode: 'numeric', maxlength: 9, pattern: '[0-9 \\-]*' });
      case 'email': return h('input', { ...common, inputmode: 'numeric', maxlength: 11, pattern: '[0-9 \\-]*' });
      case 'backup': return h('input', { ...common, maxlength: 24 });
      case 'password': return h('input', { name: 'password', type: 'password', required: true, autocomplete: 'current-password' });
    }
  }

  const labels: Record<Mode, string> = { totp: '6-digit code', email: 'Code from the email', backup: 'Backup code', password: 'Current password' };

  function alternatives(): HTMLElement[] {
    const out: HTMLElement[] = [];
    const link = (text: string, onclick: () => void) => h('button', { type: 'button', class: 'link', onclick }, text);
    const available = challenge.availableMethods;
    if (mode === 'email' && handlers.resend) out.push(link('Send a new code', resend));
    if (available.includes('totp') && mode !== 'totp') out.push(link('Use your authenticator app', () => switchLocal('totp')));
    if (available.includes('totp') && mode !== 'backup') out.push(link('Use a backup code', () => switchLocal('backup')));
    if (available.includes('email') && mode !== 'email' && handlers.switchToEmail) out.push(link('Send a code by email instead', switchToEmail));
    return out;
  }

  function render(): void {
    input = makeInput();
    const form = h('form', { class: 'stack', 'aria-labelledby': titleId, novalidate: true, onsubmit: (ev) => { ev.preventDefault(); void submit(form); } },
      h('h2', { id: titleId }, titles[mode]),
      handlers.reason ? h('p', { class: 'reason' }, handlers.reason) : null,
      h('p', { class: 'explain', 'data-testid': 'prompt-explanation' }, explanation()),
      field(labels[mode], input),
      error, info,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, mode === 'password' ? 'Confirm' : 'Verify'),
        handlers.cancel ? h('button', { type: 'button', onclick: () => handlers.cancel?.() }, 'Cancel') : null),
    );
    const alts = alternatives();
    if (alts.length) form.append(h('div', { class: 'alternatives' }, h('p', { class: 'hint' }, 'Other ways:'), h('ul', {}, alts.map((a) => h('li', {}, a)))));
    root.replaceChildren(form);
    focusSoon(input);
  }

  async function submit(form: HTMLFormElement): Promise<void> {
    const raw = input.value;
    const code = normalize(mode, raw);
    if (!code) {
      error.show(mode === 'password' ? 'Type your password first.' : 'Type the code first.');
      input.focus();
      return;
    }
    error.show(null);
    info.show(null);
    await busy(form, async () => {
      try {
        const answer = mode === 'password' ? await sha256Hex(code) : code;
        await handlers.submit({ code: answer, method: mode === 'backup' ? 'totp' : mode });
      } catch (e) {
        const wrongPassword = mode === 'password' && e instanceof ApiError && e.code === 'totp-invalid';
        error.show(wrongPassword ? 'That password is not right.' : describeError(e));
        // A wrong 6-digit code is retyped; a backup code is long enough to fix one character in.
        if (e instanceof ApiError && e.code.startsWith('totp-') && mode !== 'backup') input.value = '';
        input.focus();
      }
    });
  }

  function switchLocal(next: Mode): void {
    mode = next;
    render();
    error.show(null);
    info.show(null);
  }

  async function switchToEmail(): Promise<void> {
    error.show(null);
    try {
      const next = await busy(root, () => handlers.switchToEmail!());
      if (!next) return;
      challenge = { ...next, availableMethods: next.availableMethods.length ? next.availableMethods : challenge.availableMethods };
      mode = 'email';
      render();
      info.show(null);
    } catch (e) {
      error.show(describeError(e));
    }
  }

  async function resend(): Promise<void> {
    error.show(null);
    info.show(null);
    try {
      const sent = await busy(root, () => handlers.resend!(challenge.emailOrUsername ?? ''));
      if (sent.length) destination = sent;
      challenge = { ...challenge, codeGenerated: true };
      render();
      info.show(`We sent a new code to ${whereTo()}.`);
    } catch (e) {
      error.show(describeError(e));
      input.focus();
    }
  }

  render();
  return { element: root, focus: () => focusSoon(input) };
}
