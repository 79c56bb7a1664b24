// Step-up: a protected call refused with `totp-required` is asked again with a code, the
// way Rocket.Chat's clients do it (and the SDK will): run the call, and if the server
// wants a second factor, show the prompt and retry the same call with the
// `x-2fa-code` / `x-2fa-method` headers. Every protected action on the pages goes through here.
import { api, ApiError, type TwoFactorAnswer } from './api.ts';
import { challengeOf, codePrompt, isPromptRefusal, type Answer, type Challenge } from './code-prompt.ts';
import { h } from './dom.ts';

export interface StepUpOptions {
  /** Shown above the code field and names the dialog: what the code is for. */
  reason: string;
  /** The signed-in user's verified addresses (where email codes go). */
  emails?: string[];
}

const isChallenge = (e: unknown): e is ApiError => e instanceof ApiError && e.code === 'totp-required';

const focusedElement = () => (document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null);

/** Resolves with the action's result, or undefined when the person cancels the prompt. */
export async function withSecondFactor<T>(action: (answer?: TwoFactorAnswer) => Promise<T>, opts: StepUpOptions): Promise<T | undefined> {
  // Taken now: while the first try is on its way the button is disabled, and a disabled button loses focus.
  const opener = focusedElement();
  try {
    return await action();
  } catch (e) {
    if (!isChallenge(e)) throw e;
    return promptForCode(challengeOf(e.details), (answer) => action(answer), {
      ...opts,
      opener,
      // Naming the method without a code makes the server mail one and describe it.
      switchToEmail: () => action({ method: 'email' }),
    });
  }
}

export function sendEmailCode(emailOrUsername: string, auth = true): Promise<string[]> {
  return api<{ emails?: string[] }>('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername }, auth })
    .then((r) => r.emails ?? []);
}

/**
 * A modal prompt for a code, handed to `run` until it stops refusing the code. Also used
 * directly by calls that take the code in their body (turning the authenticator app off).
 */
export function promptForCode<T>(
  challenge: Challenge,
  run: (answer: Answer) => Promise<T>,
  opts: StepUpOptions & { switchToEmail?: () => Promise<T>; opener?: HTMLElement | null },
): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const dialog = h('dialog', { class: 'prompt' });
    // Focus goes back where it was (the button that opened the dialog) when the dialog closes.
    const opener = opts.opener ?? focusedElement();
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      fn();
      // After the page's own handling (which re-enables the opener, or replaces it and
      // focuses its news): only an opener still there and nothing else focused gets it back.
      setTimeout(() => {
        if (opener?.isConnected && (document.activeElement === document.body || document.activeElement === null)) opener.focus();
      }, 0);
    };
    const prompt = codePrompt(challenge, {
      reason: opts.reason,
      destination: opts.emails,
      account: opts.emails?.[0],
      async submit(answer) {
        try {
          const result = await run(answer);
          settle(() => resolve(result));
        } catch (e) {
          // A refused code stays in the prompt; anything else belongs to the page.
          if (isPromptRefusal(e)) throw e;
          settle(() => reject(e));
        }
      },
      switchToEmail: opts.switchToEmail && (async () => {
        try {
          const result = await opts.switchToEmail!();
          settle(() => resolve(result));
          return null;
        } catch (e) {
          if (isChallenge(e)) return challengeOf(e.details);
          throw e;
        }
      }),
      resend: (who) => sendEmailCode(who),
      cancel: () => settle(() => resolve(undefined)),
    });
    dialog.setAttribute('aria-label', opts.reason);
    dialog.append(prompt.element);
    // Escape closes a modal dialog: that is a cancel.
    dialog.addEventListener('close', () => settle(() => resolve(undefined)));
    document.body.append(dialog);
    dialog.showModal();
    prompt.focus();
  });
}
