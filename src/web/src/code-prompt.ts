// The one form for typing a second factor, used by the sign-in page and by the step-up
// dialog: it says which method and where to look, lets the user switch method, ask for a
// new email code, or use a backup code, and shows the server's refusals in words — with a
// live countdown while a lockout or a send limit holds, and the way back when suspended.
import type { ChallengeDetails } from '../../contract/api.ts';
import { ApiError, serverInfo, serverNow } from './api.ts';
import { busy, field, focusSoon, h, markInvalid, messageArea, uid } from './dom.ts';
import { describeError, sha256Hex } from './messages.ts';
import { countdown, describeRefusal, emailExplanation, newestExpiry, normalizeCode, type Mode, type Refusal } from './prompt-text.ts';
import { describePasskeyError, passkeyAnswer, passkeysSupported } from './passkeys.ts';
import { recoveryPanel } from './recovery.ts';

/** The server's `details` of a totp-required error (spec §3.3), as the prompt uses them. */
export interface Challenge {
  method: string;
  availableMethods: string[];
  codeGenerated?: boolean;
  emailOrUsername?: string | undefined;
  codeExpires?: string[] | undefined;
  /** Where the email codes went, masked by the server (Twofold's own key): what a sign-in by username can show. */
  destinations?: string[] | undefined;
  /** The passkey request options, when a passkey can answer (the server sends them with any method). */
  webauthn?: Record<string, unknown> | undefined;
}

const objectOrUndefined = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined);

export function challengeOf(details: Record<string, unknown>): Challenge {
  const d = details as Partial<Record<keyof ChallengeDetails, unknown>>;
  return {
    method: typeof d.method === 'string' ? d.method : 'totp',
    availableMethods: Array.isArray(d.availableMethods) ? d.availableMethods.filter((m): m is string => typeof m === 'string') : [],
    codeGenerated: d.codeGenerated === true,
    emailOrUsername: typeof d.emailOrUsername === 'string' ? d.emailOrUsername : undefined,
    codeExpires: Array.isArray(d.codeExpires) ? d.codeExpires.filter((t): t is string => typeof t === 'string') : undefined,
    destinations: Array.isArray(d.destinations) ? d.destinations.filter((t): t is string => typeof t === 'string') : undefined,
    webauthn: objectOrUndefined(d.webauthn),
  };
}

/** Refusals the prompt shows itself (the code, its limits, a suspension); anything else belongs to the page. */
export const isPromptRefusal = (e: unknown): e is ApiError =>
  e instanceof ApiError && (e.code.startsWith('totp-') || e.code === 'error-2fa-suspended');

export interface Answer {
  code: string;
  method: string;
  /** The "remember this device" box was ticked (sign-in only). */
  rememberDevice?: boolean;
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
  /** The name a suspended user recovers with (`users.2fa.recover`). */
  account?: string | undefined;
  /** Sign-in only: the label of a "remember this device" box (absent: no box). */
  rememberDevice?: string | undefined;
}

/** The prompt's modes: a code of some kind, or a passkey (no code to type). */
type PromptMode = Mode | 'webauthn';

const modeOf = (method: string): PromptMode => (method === 'email' || method === 'password' || method === 'webauthn' ? method : 'totp');

/** A passkey can answer when the server offered one and this browser can use it. */
const passkeyUsable = (c: Challenge) => c.availableMethods.includes('webauthn') && c.webauthn !== undefined && passkeysSupported();

const titles: Record<Mode, string> = {
  totp: 'Enter the code from your authenticator app',
  backup: 'Enter a backup code',
  email: 'Check your email',
  password: 'Confirm with your password',
};

const labels: Record<Mode, string> = { totp: '6-digit code', email: 'Code from the email', backup: 'Backup code', password: 'Current password' };

export function codePrompt(first: Challenge, handlers: PromptHandlers): { element: HTMLElement; focus(): void } {
  let challenge = first;
  let mode = modeOf(first.method);
  // What the page knows (the address typed) wins; else where the server says it mailed the code.
  const serverDestination = (c: Challenge) => (c.destinations?.length ? c.destinations : null);
  let destination = handlers.destination?.length ? handlers.destination : serverDestination(first);
  const titleId = uid('prompt-title');
  const root = h('div', { class: 'code-prompt' });
  let input: HTMLInputElement;
  let verifyButton: HTMLButtonElement;
  // Kept across re-renders (switching method), so a tick is not lost.
  let rememberChecked = false;
  let resendButton: HTMLButtonElement | null = null;
  const error = messageArea('alert');
  const info = messageArea('status');
  // Not a live region: it changes every second, and the alert above already said the wait once.
  const timer = h('p', { class: 'countdown', 'data-testid': 'countdown', hidden: true });
  const waits: { locked: number | null; send: number | null } = { locked: null, send: null };
  let ticking: ReturnType<typeof setInterval> | null = null;

  function explanation(): string {
    switch (mode) {
      case 'webauthn': return 'Use the passkey or security key you registered for this account: your browser will ask for it.';
      case 'totp': return 'Open your authenticator app and type the 6-digit code it shows for this account.';
      case 'backup': return 'Type one of the backup codes you saved when you set up the app (like abcde-23456; the dash and capitals do not matter). Each code works once.';
      case 'password': return 'You have no second factor set up yet, so your current password stands in for it.';
      case 'email': {
        const ttl = serverInfo()?.emailCodeTtl ?? null;
        // The server's expiry of the newest code, else (a code mailed just now) its lifetime from now.
        const expires = newestExpiry(challenge.codeExpires, serverNow()) ?? (ttl !== null && challenge.codeGenerated !== false ? serverNow() + ttl * 1000 : null);
        return emailExplanation({
          destination,
          alreadySent: challenge.codeGenerated === false,
          ttlSeconds: ttl,
          secondsLeft: expires === null ? null : (expires - serverNow()) / 1000,
          // On this device's clock: the server's time less the difference between the two.
          until: expires === null ? null : new Date(expires - (serverNow() - Date.now())).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' }),
        });
      }
    }
  }

  function makeInput(): HTMLInputElement {
    if (mode === 'webauthn') return h('input', { type: 'hidden', name: 'code' });
    const common = { name: 'code', required: true, autocomplete: 'one-time-code', spellcheck: 'false', autocapitalize: 'off' };
    switch (mode) {
      case 'totp': return h('input', { ...common, inputmode: 'numeric', maxlength: 9, pattern: '[0-9 \\-]*' });
      case 'email': return h('input', { ...common, inputmode: 'numeric', maxlength: 11, pattern: '[0-9 \\-]*' });
      // Long enough for any backup code format the server hands out (grouped, with dashes).
      case 'backup': return h('input', { ...common, maxlength: 32 });
      case 'password': return h('input', { name: 'password', type: 'password', required: true, autocomplete: 'current-password' });
    }
  }

  function alternatives(): HTMLElement[] {
    const out: HTMLElement[] = [];
    const link = (text: string, onclick: () => void) => h('button', { type: 'button', class: 'link', onclick }, text);
    const available = challenge.availableMethods;
    resendButton = mode === 'email' && handlers.resend ? link('Send a new code', () => void resend()) : null;
    if (resendButton) out.push(resendButton);
    if (mode !== 'webauthn' && passkeyUsable(challenge)) out.push(link('Use a passkey', () => void usePasskey()));
    if (available.includes('totp') && mode !== 'totp') out.push(link('Use your authenticator app', () => switchLocal('totp')));
    if (available.includes('totp') && mode !== 'backup') out.push(link('Use a backup code', () => switchLocal('backup')));
    if (available.includes('email') && mode !== 'email' && handlers.switchToEmail) out.push(link('Send a code by email instead', () => void switchToEmail()));
    return out;
  }

  function render(): void {
    if (mode === 'webauthn') return renderPasskey();
    input = makeInput();
    input.addEventListener('input', () => markInvalid(input, null));
    verifyButton = h('button', { type: 'submit', class: 'primary' }, mode === 'password' ? 'Confirm' : 'Verify');
    const rememberBox = handlers.rememberDevice
      ? h('input', { type: 'checkbox', name: 'rememberDevice', id: uid('remember'), onchange: (ev) => { rememberChecked = (ev.target as HTMLInputElement).checked; } })
      : null;
    if (rememberBox) rememberBox.checked = rememberChecked;
    const form = h('form', { class: 'stack', 'aria-labelledby': titleId, novalidate: true, onsubmit: (ev) => { ev.preventDefault(); void submit(form); } },
      h('h2', { id: titleId }, titles[mode]),
      handlers.reason ? h('p', { class: 'reason' }, handlers.reason) : null,
      h('p', { class: 'explain', 'data-testid': 'prompt-explanation' }, explanation()),
      field(labels[mode], input),
      rememberBox ? h('div', { class: 'check' }, rememberBox, h('label', { for: rememberBox.id }, handlers.rememberDevice!)) : null,
      error, timer, info,
      actionsRow(),
    );
    show(form);
    focusSoon(input);
  }

  /** Verify (or the passkey button), and Cancel when the prompt can be left. */
  function actionsRow(): HTMLElement {
    return h('div', { class: 'actions' },
      verifyButton,
      handlers.cancel ? h('button', { type: 'button', onclick: () => handlers.cancel?.() }, 'Cancel') : null);
  }

  /** Puts a rendered prompt in place, with the other ways to answer under it and any waits running. */
  function show(form: HTMLElement): void {
    const alts = alternatives();
    if (alts.length) form.append(h('div', { class: 'alternatives' }, h('p', { class: 'hint' }, 'Other ways:'), h('ul', {}, alts.map((a) => h('li', {}, a)))));
    root.replaceChildren(form);
    applyWaits();
  }

  /** The passkey is the method: no field, one button that asks the browser for it. */
  function renderPasskey(): void {
    input = makeInput();
    verifyButton = h('button', { type: 'button', class: 'primary', onclick: () => void usePasskey() }, 'Use a passkey');
    const form = h('div', { class: 'stack', role: 'group', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, 'Use your passkey'),
      handlers.reason ? h('p', { class: 'reason' }, handlers.reason) : null,
      h('p', { class: 'explain', 'data-testid': 'prompt-explanation' }, explanation()),
      error, timer, info,
      actionsRow(),
    );
    show(form);
    focusSoon(verifyButton);
  }

  /** Asks the browser for the passkey and sends its assertion as the code. */
  async function usePasskey(): Promise<void> {
    showError(null);
    info.show(null);
    const options = challenge.webauthn;
    if (!options) {
      showError('This browser cannot use a passkey here.');
      return;
    }
    let code: string;
    try {
      code = await busy(root, () => passkeyAnswer(options));
    } catch (e) {
      showError(describePasskeyError(e));
      return;
    }
    try {
      await busy(root, () => handlers.submit({ code, method: 'webauthn' }));
    } catch (e) {
      // Each try spends its challenge: the refusal carries the next one.
      const next = e instanceof ApiError ? objectOrUndefined(e.details.webauthn) : undefined;
      if (next) challenge = { ...challenge, webauthn: next };
      showFailure(e);
      applyWaits();
    }
  }

  function showError(text: string | null): void {
    error.show(text);
    if (mode !== 'webauthn') markInvalid(input, text ? error : null);
  }

  /** Holds back what may not be used yet; buttons come back when their wait is over. */
  function applyWaits(): void {
    const now = Date.now();
    if (waits.locked !== null && waits.locked <= now) {
      waits.locked = null;
      info.show('You can try again now.');
    }
    if (waits.send !== null && waits.send <= now) {
      waits.send = null;
      if (waits.locked === null) info.show('You can ask for a new code now.');
    }
    verifyButton.disabled = waits.locked !== null;
    if (resendButton) resendButton.disabled = waits.locked !== null || waits.send !== null;
    const until = waits.locked ?? waits.send;
    timer.hidden = until === null;
    if (until !== null) {
      const left = countdown((until - now) / 1000);
      timer.textContent = waits.locked !== null ? `You can try again in ${left}.` : `You can ask for a new code in ${left}.`;
    }
    if (until === null && ticking !== null) {
      clearInterval(ticking);
      ticking = null;
    } else if (until !== null && ticking === null) {
      ticking = setInterval(() => {
        // The prompt was closed or replaced: stop counting for nobody.
        if (!root.isConnected) {
          clearInterval(ticking!);
          ticking = null;
          return;
        }
        applyWaits();
      }, 1000);
    }
  }

  /** Shows an error in words; a refusal the prompt knows also starts its wait (or the recovery). */
  function showFailure(e: unknown): Refusal | null {
    const refusal = e instanceof ApiError ? describeRefusal(e.code, e.details, mode === 'webauthn' ? 'totp' : mode) : null;
    if (!refusal) showError(describeError(e));
    else if (refusal.recover) showSuspended();
    else {
      showError(refusal.text);
      if (refusal.wait) waits[refusal.wait.kind] = Date.now() + refusal.wait.seconds * 1000;
    }
    return refusal;
  }

  function showSuspended(): void {
    const heading = h('h2', { id: titleId, tabindex: -1 }, 'Two-step verification is suspended');
    const who = handlers.account ?? challenge.emailOrUsername ?? destination?.[0];
    root.replaceChildren(h('div', { class: 'stack', 'data-testid': 'suspended' },
      heading,
      h('p', { role: 'alert', class: 'msg error' }, 'After too many wrong codes in a row, codes are not accepted for this account until it is recovered.'),
      who
        ? recoveryPanel(who, () => {
          render();
          info.show('The suspension is lifted. Type a code to go on.');
        })
        : h('p', {}, 'Ask your administrator to reset your second factor.'),
      handlers.cancel ? h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => handlers.cancel?.() }, 'Cancel')) : null));
    focusSoon(heading);
  }

  async function submit(form: HTMLFormElement): Promise<void> {
    if (mode === 'webauthn') return;
    const code = normalizeCode(mode, input.value);
    if (!code) {
      showError(mode === 'password' ? 'Type your password first.' : 'Type the code first.');
      input.focus();
      return;
    }
    showError(null);
    info.show(null);
    let refusal: Refusal | null = null;
    let codeRefused = false;
    await busy(form, async () => {
      try {
        const answer = mode === 'password' ? await sha256Hex(code) : code;
        await handlers.submit({ code: answer, method: mode === 'backup' ? 'totp' : mode, ...(rememberChecked ? { rememberDevice: true } : {}) });
      } catch (e) {
        refusal = showFailure(e);
        codeRefused = e instanceof ApiError && e.code.startsWith('totp-');
      }
    });
    const r = refusal as Refusal | null;
    if (r?.recover || !input.isConnected) return;
    // A wrong 6-digit code is retyped, not edited; a long backup code is corrected.
    if (!codeRefused || r?.keepInput) input.select();
    else input.value = '';
    applyWaits();
    // When the code can no longer work, the next step is a new one: Enter asks for it.
    if (r?.offerNewCode && resendButton && !resendButton.disabled) resendButton.focus();
    else input.focus();
  }

  function switchLocal(next: PromptMode): void {
    mode = next;
    render();
    showError(null);
    info.show(null);
  }

  async function switchToEmail(): Promise<void> {
    showError(null);
    try {
      const next = await busy(root, () => handlers.switchToEmail!());
      if (!next) return;
      challenge = { ...next, availableMethods: next.availableMethods.length ? next.availableMethods : challenge.availableMethods };
      destination ??= serverDestination(next);
      mode = 'email';
      render();
      info.show(null);
    } catch (e) {
      showFailure(e);
      applyWaits();
    }
  }

  async function resend(): Promise<void> {
    showError(null);
    info.show(null);
    try {
      const sent = await busy(root, () => handlers.resend!(challenge.emailOrUsername ?? handlers.account ?? ''));
      if (sent.length) destination = sent;
      // A fresh code: its lifetime is the server's whole setting.
      challenge = { ...challenge, codeGenerated: true, codeExpires: undefined };
      render();
      info.show(`We sent a new code to ${destination ? destination.join(' and ') : 'the email address on your account'}.`);
    } catch (e) {
      showFailure(e);
      applyWaits();
      input.focus();
    }
  }

  render();
  return { element: root, focus: () => focusSoon(input) };
}
