import { formatEmailCode } from '../core/twofactor/email-codes.ts';
import type { MailMessage } from './mailer.ts';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function authenticationCodeMail(to: string, username: string, code: string, minutes: number): MailMessage {
  const shown = formatEmailCode(code);
  const text = [
    `Hello ${username},`,
    '',
    `Your authentication code is: ${shown}`,
    '',
    `It expires in ${minutes} minutes. Do not share this code with anyone.`,
    'If you did not try to sign in, ignore this message; your account stays safe without the code.',
  ].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<p>Hello ${escapeHtml(username)},</p>
<p>Your authentication code is:</p>
<p style="font-size:28px;font-weight:bold;letter-spacing:2px">${shown}</p>
<p>It expires in ${minutes} minutes. Do not share this code with anyone.</p>
<p>If you did not try to sign in, ignore this message; your account stays safe without the code.</p>
</body></html>`;
  return { to, subject: 'Authentication code', text, html };
}

export function verifyEmailMail(to: string, username: string, link: string): MailMessage {
  const text = [
    `Hello ${username},`,
    '',
    'Confirm that this address is yours by opening this link:',
    link,
    '',
    'If you did not add this address, ignore this message.',
  ].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<p>Hello ${escapeHtml(username)},</p>
<p>Confirm that this address is yours:</p>
<p><a href="${escapeHtml(link)}">Verify ${escapeHtml(to)}</a></p>
<p>If you did not add this address, ignore this message.</p>
</body></html>`;
  return { to, subject: 'Verify your email address', text, html };
}

/**
 * Sent instead of a verification link when a sign-up names an address or a username that is
 * taken and unknown users are masked: only whoever reads this mailbox learns why.
 */
export function signUpRefusedMail(to: string, username: string, reason: 'email-in-use' | 'username-in-use'): MailMessage {
  const why = reason === 'email-in-use'
    ? 'An account already uses this address, so no new account was made. If it is yours, log in, or ask an administrator for help.'
    : `The username "${username}" is taken, so no account was made. Sign up again with another username.`;
  const text = ['Hello,', '', 'Someone asked to sign up with this address.', why, '', 'If it was not you, ignore this message.'].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<p>Hello,</p>
<p>Someone asked to sign up with this address.</p>
<p>${escapeHtml(why)}</p>
<p>If it was not you, ignore this message.</p>
</body></html>`;
  return { to, subject: 'Your sign-up', text, html };
}

export function suspendedMail(to: string, username: string, failures: number): MailMessage {
  const text = [
    `Hello ${username},`,
    '',
    `Your account's two-factor authentication was suspended after ${failures} wrong codes in a row.`,
    'Someone may know your password and be guessing your codes. Until it is lifted, no code is accepted,',
    'so nobody (you included) can sign in or confirm a protected action.',
    '',
    'To lift it, ask for a recovery code to be sent to this address (POST /api/v1/users.2fa.recover with',
    'your username or email, then again with the code), or ask an administrator. Then change your password.',
  ].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<p>Hello ${escapeHtml(username)},</p>
<p>Your account's two-factor authentication was suspended after ${failures} wrong codes in a row.
Someone may know your password and be guessing your codes. Until it is lifted, no code is accepted.</p>
<p>To lift it, ask for a recovery code to be sent to this address (<code>POST /api/v1/users.2fa.recover</code>
with your username or email, then again with the code), or ask an administrator. Then change your password.</p>
</body></html>`;
  return { to, subject: 'Two-factor authentication suspended', text, html };
}

export function recoveryCodeMail(to: string, username: string, code: string, minutes: number): MailMessage {
  const shown = formatEmailCode(code);
  const text = [
    `Hello ${username},`,
    '',
    `Your recovery code is: ${shown}`,
    '',
    `It lifts the suspension of your two-factor authentication and expires in ${minutes} minutes.`,
    'If you did not ask for it, ignore this message and tell an administrator.',
  ].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<p>Hello ${escapeHtml(username)},</p>
<p>Your recovery code is:</p>
<p style="font-size:28px;font-weight:bold;letter-spacing:2px">${shown}</p>
<p>It lifts the suspension of your two-factor authentication and expires in ${minutes} minutes.</p>
<p>If you did not ask for it, ignore this message and tell an administrator.</p>
</body></html>`;
  return { to, subject: 'Recovery code', text, html };
}
