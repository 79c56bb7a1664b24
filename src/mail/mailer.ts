import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { maskEmail } from '../core/accounts.ts';
import { isEmailAddress } from '../core/email-address.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/**
 * The last gate before nodemailer, which reads a recipient string as a list of addresses
 * with names and comments: only a bare addr-spec passes, and it is handed over as an
 * address object (no parsing) with an explicit envelope, so RCPT TO is exactly `to`.
 */
function envelopeOf(m: MailMessage, from: string) {
  if (!isEmailAddress(m.to)) throw new Error('refusing to mail a recipient that is not a plain address');
  return { ...m, from, to: { name: '', address: m.to }, envelope: { from, to: [{ name: '', address: m.to }] } };
}

/** Real SMTP through nodemailer (`TWOFOLD_SMTP_URL`). */
export function smtpMailer(url: string, from: string, log: Logger): Mailer {
  const transport = nodemailer.createTransport(url);
  return {
    async send(m) {
      const info = await transport.sendMail(envelopeOf(m, from));
      // The subject and body may hold a code: log only where it went.
      log.info({ mail: { to: maskEmail(m.to), messageId: info.messageId } }, 'mail sent over SMTP');
    },
    close: () => transport.close(),
  };
}

/** The embedded default: each message is an .eml file in `<data dir>/outbox/`. */
export function outboxMailer(dir: string, from: string, log: Logger): Mailer {
  mkdirSync(dir, { recursive: true });
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  let sequence = 0;
  return {
    async send(m) {
      const info = await builder.sendMail(envelopeOf(m, from));
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${String(sequence++).padStart(4, '0')}.eml`;
      const path = join(dir, name);
      // Write then rename, so a reader never sees half a message.
      writeFileSync(`${path}.tmp`, info.message as Buffer, { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
      log.info({ mail: { to: maskEmail(m.to), file: path } }, 'mail written to the outbox');
    },
    close: () => builder.close(),
  };
}

export interface OutboxEntry { file: string; path: string; to: string; subject: string; date: string }

export function listOutbox(dir: string): OutboxEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.eml')).sort();
  } catch {
    return [];
  }
  return names.map((file) => {
    const path = join(dir, file);
    const head = readFileSync(path, 'utf8').split(/\r?\n\r?\n/, 1)[0] ?? '';
    const header = (name: string) => head.match(new RegExp(`^${name}: (.*)$`, 'mi'))?.[1] ?? '';
    return { file, path, to: header('To'), subject: header('Subject'), date: header('Date') };
  });
}
