// The words of the code prompt, as pure functions of what the server answered: no DOM, so
// they are unit-tested under Node (prompt-text.test.ts) and read the same in every page.
import type { ChallengeDetails, PageErrorCode } from '../../contract/api.ts';

export type Mode = 'totp' | 'backup' | 'email' | 'password';

/** Keeps what a person may paste or type around a code ("123-456", "123 456") out of the answer. */
export function normalizeCode(mode: Mode, raw: string): string {
  if (mode === 'email' || mode === 'totp') return raw.replace(/\D/g, '');
  // Backup codes are shown grouped (xxxxx-xxxxx) and may be typed in capitals or with spaces:
  // the server's own form is what it returned, so only what a person adds is taken away.
  if (mode === 'backup') return raw.replace(/\s/g, '');
  return raw;
}

/** A wait in words, for text read once ("2 minutes"); the countdown beside it is exact. */
export function waitText(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 90) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
}

/** A live countdown as a clock reads: 4:05, 0:09, 1:00:00. */
export function countdown(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** A code lifetime from the server's setting, in words ("10 minutes", "90 seconds"). */
export function lifetimeText(ttlSeconds: number): string {
  if (ttlSeconds % 60 === 0) {
    const m = ttlSeconds / 60;
    return `${m} minute${m === 1 ? '' : 's'}`;
  }
  return ttlSeconds < 120 ? `${ttlSeconds} seconds` : `about ${Math.round(ttlSeconds / 60)} minutes`;
}

/** What a refusal means for the prompt: the words, and what to hold back until when. */
export interface Refusal {
  text: string;
  /** Seconds until the next try (a lockout) or the next code (a send limit) is allowed. */
  wait?: { seconds: number; kind: 'locked' | 'send' };
  /** The way forward is a new email code. */
  offerNewCode?: boolean;
  /** The account needs recovery, not another code. */
  recover?: boolean;
  /** Keep what was typed (a backup code is long; a person corrects it rather than retyping). */
  keepInput?: boolean;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

function triesLeft(n: number | undefined): string {
  if (n === undefined) return '';
  return n === 1 ? ' 1 try left.' : ` ${n} tries left.`;
}

/**
 * The prompt's words for a refused code (`totp-invalid`, `totp-max-attempts`), a send limit
 * or a suspended second factor; null for anything else (the page's general words apply).
 */
export function describeRefusal(code: PageErrorCode | string, details: Partial<ChallengeDetails> & Record<string, unknown>, mode: Mode): Refusal | null {
  const retryAfter = num(details.retryAfter);
  const attemptsLeft = num(details.attemptsLeft);
  switch (code) {
    case 'totp-invalid': {
      if (attemptsLeft === 0 && retryAfter) {
        return { text: `That ${mode === 'password' ? 'password' : 'code'} is not right, and that was the last try for now. You can try again in ${waitText(retryAfter)}.`, wait: { seconds: retryAfter, kind: 'locked' }, keepInput: mode === 'backup' };
      }
      const left = triesLeft(attemptsLeft);
      if (mode === 'password') return { text: `That password is not right.${left}` };
      if (details.reason === 'used') return { text: `That code was already used. Wait for the next code in your app, then type it.${left}` };
      if (details.reason === 'expired') return { text: `That code has expired. Ask for a new code.${left}`, offerNewCode: true };
      if (mode === 'email' && details.codeCount === 0) {
        return { text: `That code is not right, and no code is waiting for you any more. Ask for a new code.${left}`, offerNewCode: true };
      }
      if (mode === 'backup') return { text: `That backup code is not right, or it was already used. Check it and try again.${left}`, keepInput: true };
      return { text: `That code is not right. Check it and try again.${left}` };
    }
    case 'totp-max-attempts':
      if (retryAfter) {
        return { text: `Too many wrong codes. You can try again in ${waitText(retryAfter)}.`, wait: { seconds: retryAfter, kind: 'locked' }, keepInput: mode === 'backup' };
      }
      if (details.method === 'email') return { text: 'Too many wrong codes: the code we sent no longer works. Ask for a new code and use the newest email.', offerNewCode: true };
      return { text: 'Too many wrong codes. Wait a few minutes, then try again.' };
    case 'error-too-many-requests': {
      const wait = num(details.timeToReset);
      return wait
        ? { text: `Please wait ${waitText(wait)} before asking for another code.`, wait: { seconds: wait, kind: 'send' } }
        : { text: 'Too many requests. Please wait a little and try again.' };
    }
    case 'error-2fa-suspended':
      return {
        text: 'Two-step verification is suspended for this account after too many wrong codes, so codes are not accepted now. Recover your account below, or ask your administrator to reset your second factor.',
        recover: true,
      };
    default:
      return null;
  }
}

/** How long the newest live email code has left, from the challenge and the server's clock. */
export function newestExpiry(codeExpires: readonly string[] | undefined, serverNow: number): number | null {
  const times = (codeExpires ?? []).map((t) => Date.parse(t)).filter((t) => Number.isFinite(t) && t > serverNow);
  return times.length ? Math.max(...times) : null;
}

/** The email prompt's explanation: where the code went, and for how long it is good. */
export function emailExplanation(opts: {
  destination: readonly string[] | null;
  alreadySent: boolean;
  ttlSeconds: number | null;
  /** Seconds the newest code has left, when the server said. */
  secondsLeft: number | null;
  /** The newest code's expiry as the person's clock shows it ("10:42"), when known. */
  until?: string | null;
}): string {
  const where = opts.destination?.length ? opts.destination.join(' and ') : 'the email address on your account';
  const until = opts.until ? `, until ${opts.until}` : '';
  if (opts.alreadySent) {
    const left = opts.secondsLeft !== null ? ` The newest code is good for ${waitText(opts.secondsLeft)} more${until}.` : '';
    return `We already sent a code to ${where}. Use the newest email, or ask for a new code.${left}`;
  }
  const life = opts.ttlSeconds !== null ? `It is valid for ${lifetimeText(opts.ttlSeconds)}${until}.` : 'It is valid for a few minutes.';
  return `We sent a code to ${where}. ${life}`;
}
