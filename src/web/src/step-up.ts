// Step-up: a protected call refused with `totp-required` is asked again with a code. The SDK
// does the asking and the retrying (its `onChallenge` hook, the `x-2fa-code` / `x-2fa-method`
// headers); this module turns that hook into the code prompt a person answers, in a modal
// dialog. Every protected action on the pages goes through here.
import type { ChallengeAnswer, ChallengeHook, ChallengeReply } from '../../../packages/client/src/index.ts';
import { TwoFactorRequiredError } from '../../../packages/client/src/index.ts';
import { api, ApiError, type TwoFactor } from './api.ts';
import { challengeOf, codePrompt, isPromptRefusal, type Answer, type Challenge, type PromptHandlers } from './code-prompt.ts';
import { h } from './dom.ts';

export interface StepUpOptions {
  /** Shown above the code field and names the dialog: what the code is for. */
  reason: string;
  /** The signed-in user's verified addresses (where email codes go). */
  emails?: string[];
}

/** Where a prompt is shown: a dialog for step-up, the sign-in card for a login. */
export interface PromptHost {
  open(challenge: Challenge, handlers: Pick<PromptHandlers, 'submit' | 'switchToEmail' | 'cancel'>): void;
  close(): void;
  /** Failures the open prompt shows itself and stays for; any other ends the call. */
  keeps(e: unknown): boolean;
}

/**
 * Runs `call` with a hook that shows the prompt at the first challenge and hands the SDK
 * each answer the person gives; the SDK's next challenge (a refused code, the emailed code
 * asked for) goes back to the prompt. Resolves with the call's result, or undefined when the
 * person cancels.
 */
export function promptDriven<T>(call: (twoFactor: TwoFactor) => Promise<T>, host: PromptHost): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    let shown = false;
    let cancelled = false;
    let done = false;
    let running = false;
    /** The hook, waiting for the person's answer. */
    let waiting: ((answer: ChallengeAnswer) => void) | null = null;
    /** The prompt, waiting to hear whether its answer worked (a refusal is thrown back to it). */
    let submitted: { resolve(): void; reject(e: unknown): void } | null = null;
    /** "Send a code by email instead", waiting for the email challenge. */
    let switching: { resolve(c: Challenge | null): void; reject(e: unknown): void } | null = null;

    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      if (shown) host.close();
      fn();
    };

    const onChallenge: ChallengeHook = (ctx) => {
      const challenge = challengeOf(ctx.details);
      if (!shown) {
        shown = true;
        host.open(challenge, handlers);
      } else if (switching) {
        const s = switching;
        switching = null;
        s.resolve(challenge);
      } else if (submitted) {
        const s = submitted;
        submitted = null;
        // The refused answer, as the prompt shows refusals (with the next passkey options in its details).
        s.reject(new ApiError(ctx.error, { transport: ctx.transport, details: ctx.details }));
      }
      return new Promise<ChallengeAnswer>((r) => { waiting = r; });
    };

    function run(answer?: ChallengeReply): void {
      running = true;
      call({ onChallenge, answer }).then((result) => {
        running = false;
        submitted?.resolve();
        switching?.resolve(null);
        finish(() => resolve(result));
      }, (e: unknown) => {
        running = false;
        const pending = submitted ?? switching;
        submitted = null;
        switching = null;
        if (cancelled && e instanceof TwoFactorRequiredError) return finish(() => resolve(undefined));
        // The prompt stays and shows it; the person's next answer runs the call again with it.
        if (shown && pending && host.keeps(e)) return pending.reject(e);
        // The prompt goes away with the call: its own wait ends quietly.
        if (pending) (pending.resolve as (v?: null) => void)(null);
        finish(() => reject(e));
      });
    }

    function deliver(answer: ChallengeReply): void {
      if (waiting) {
        const w = waiting;
        waiting = null;
        w(answer);
      } else if (!running) {
        run(answer);
      }
    }

    const handlers = {
      submit: (answer: Answer) => new Promise<void>((res, rej) => {
        submitted = { resolve: res, reject: rej };
        deliver({ code: answer.code, method: answer.method as ChallengeReply['method'], ...(answer.rememberDevice ? { rememberDevice: true } : {}) });
      }),
      // Naming the method without a code makes the server mail one and describe it.
      switchToEmail: () => new Promise<Challenge | null>((res, rej) => {
        switching = { resolve: res, reject: rej };
        deliver({ method: 'email' });
      }),
      cancel: () => {
        cancelled = true;
        if (waiting) {
          const w = waiting;
          waiting = null;
          w(null);
        } else if (!running) {
          finish(() => resolve(undefined));
        }
      },
    };
    run();
  });
}

const focusedElement = () => (document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null);

/** The code prompt in a modal dialog; focus goes back to the opener when it closes. */
function dialog(opts: StepUpOptions & { opener: HTMLElement | null; onEscape(): void }) {
  const element = h('dialog', { class: 'prompt' });
  let closed = false;
  return {
    show(handlers: PromptHandlers, challenge: Challenge) {
      const prompt = codePrompt(challenge, {
        ...handlers,
        reason: opts.reason,
        destination: opts.emails,
        account: opts.emails?.[0],
        resend: (who) => sendEmailCode(who),
      });
      element.setAttribute('aria-label', opts.reason);
      element.append(prompt.element);
      // Escape closes a modal dialog: that is a cancel.
      element.addEventListener('close', () => { if (!closed) opts.onEscape(); });
      document.body.append(element);
      element.showModal();
      prompt.focus();
    },
    close() {
      if (closed) return;
      closed = true;
      if (element.open) element.close();
      element.remove();
      // After the page's own handling (which re-enables the opener, or replaces it and
      // focuses its news): only an opener still there and nothing else focused gets it back.
      const opener = opts.opener;
      setTimeout(() => {
        if (opener?.isConnected && (document.activeElement === document.body || document.activeElement === null)) opener.focus();
      }, 0);
    },
  };
}

/**
 * Runs a protected call; when the server asks for a second factor, the SDK's hook shows the
 * prompt. Resolves with the call's result, or undefined when the person cancels the prompt.
 */
export function withSecondFactor<T>(action: (twoFactor: TwoFactor) => Promise<T>, opts: StepUpOptions): Promise<T | undefined> {
  // Taken now: while the first try is on its way the button is disabled, and a disabled button loses focus.
  const opener = focusedElement();
  let cancel = () => {};
  const box = dialog({ ...opts, opener, onEscape: () => cancel() });
  return promptDriven(action, {
    open(challenge, handlers) {
      cancel = handlers.cancel!;
      box.show(handlers, challenge);
    },
    close: () => box.close(),
    // A refused code stays in the prompt; anything else belongs to the page.
    keeps: isPromptRefusal,
  });
}

export function sendEmailCode(emailOrUsername: string, auth = true): Promise<string[]> {
  return api<{ emails?: string[] }>('POST', '/api/v1/users.2fa.sendEmailCode', { body: { emailOrUsername }, auth })
    .then((r) => r.emails ?? []);
}

/**
 * The prompt for a call that takes its code in its input (turning the authenticator app
 * off): no challenge comes first, so the prompt opens at once and each answer goes to `run`
 * until it stops refusing it.
 */
export function promptForCode<T>(
  challenge: Challenge,
  run: (answer: Answer) => Promise<T>,
  opts: StepUpOptions & { switchToEmail?: () => Promise<T> },
): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      box.close();
      fn();
    };
    const box = dialog({ ...opts, opener: focusedElement(), onEscape: () => settle(() => resolve(undefined)) });
    box.show({
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
          if (e instanceof ApiError && e.code === 'totp-required') return challengeOf(e.details);
          throw e;
        }
      }),
      cancel: () => settle(() => resolve(undefined)),
    }, challenge);
  });
}
