// `twofold mail`: the outbox of the embedded default, for reading codes and links without SMTP.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listOutbox } from '../mail/mailer.ts';
import type { Command } from './context.ts';
import { decodeMail } from './mime.ts';

/** Outbox files are our own small mails; of anything larger only the start is read. */
const MAX_MAIL_BYTES = 1_048_576;

function readStart(path: string): Buffer {
  const buffer = Buffer.alloc(MAX_MAIL_BYTES);
  const fd = openSync(path, 'r');
  try {
    return buffer.subarray(0, readSync(fd, buffer, 0, MAX_MAIL_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}

/** The code as the mail shows it (123-456); printed bare, as `code` and `x-2fa-code` take it. */
const CODE_IN_TEXT = /\b(\d{3})-(\d{3})\b/;

export const mailCommand: Command = {
  name: 'mail',
  args: '[--last]',
  summary: 'list the outbox, or print the newest message decoded',
  details: [
    '(no option)   one line per mail in <data dir>/outbox/: file, recipient, subject',
    '--last        the newest mail: From, To, Subject, Date, its text decoded, and the code on',
    '              a line of its own ("code: 123456") when it carries one',
    'Mail goes to the outbox unless TWOFOLD_SMTP_URL is set.',
  ],
  async run(args, cli) {
    const { values } = parseArgs({ args, strict: true, options: { last: { type: 'boolean' } } });
    const entries = listOutbox(join(cli.settings().dataDir, 'outbox'));
    if (entries.length === 0) return cli.out('the outbox is empty');
    if (!values.last) {
      for (const e of entries) cli.out(`${e.file}  to ${e.to}  "${e.subject}"`);
      return;
    }
    const last = entries[entries.length - 1]!;
    // latin1 keeps every byte as one character until the part's charset is known.
    const mail = decodeMail(readStart(last.path).toString('latin1'));
    for (const name of ['From', 'To', 'Subject', 'Date']) cli.out(`${name}: ${mail.headers.get(name.toLowerCase()) ?? ''}`);
    cli.out(`File: ${last.path}`);
    cli.out();
    const text = mail.text ?? '(this mail has no text part)';
    cli.out(text.replace(/\s+$/, ''));
    const code = CODE_IN_TEXT.exec(text);
    if (code) {
      cli.out();
      cli.out(`code: ${code[1]}${code[2]}`);
    }
  },
};
