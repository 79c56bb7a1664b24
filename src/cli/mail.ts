// `twofold mail`: the outbox of the embedded default, for reading codes and links without SMTP.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listOutbox } from '../mail/mailer.ts';
import type { Command } from './context.ts';
import { decodeMail } from './mime.ts';

/** Outbox files are our own small mails; a larger file is not read whole into memory. */
const MAX_MAIL_BYTES = 1_048_576;

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
    const raw = readFileSync(last.path);
    const mail = decodeMail(raw.subarray(0, MAX_MAIL_BYTES).toString('latin1'));
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
