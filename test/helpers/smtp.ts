import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
}

/** A real SMTP server in the test process that keeps what it receives. */
export class MailCatcher {
  readonly messages: ReceivedMail[] = [];
  private waiters: { pred: (m: ReceivedMail) => boolean; resolve: (m: ReceivedMail) => void }[] = [];
  private server: SMTPServer;
  port = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      onData: (stream, session, callback) => {
        simpleParser(stream).then((parsed) => {
          const mail: ReceivedMail = {
            to: session.envelope.rcptTo.map((r) => r.address),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
          };
          this.messages.push(mail);
          for (const w of [...this.waiters]) {
            if (w.pred(mail)) {
              this.waiters.splice(this.waiters.indexOf(w), 1);
              w.resolve(mail);
            }
          }
          callback();
        }, callback);
      },
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  get url() {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** The next message (already received or yet to come) that matches, sent after `afterIndex`. */
  waitFor(pred: (m: ReceivedMail) => boolean = () => true, timeoutMs = 10_000, afterIndex = 0): Promise<ReceivedMail> {
    const hit = this.messages.slice(afterIndex).find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching mail arrived')), timeoutMs);
      this.waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  }

  /** Waits for the next mail to `address` after the ones seen so far and returns its code (digits only). */
  async nextCode(address: string, run?: () => Promise<unknown>): Promise<string> {
    const seen = this.messages.length;
    const pending = this.waitFor((m) => m.to.includes(address) && m.subject === 'Authentication code', 10_000, seen);
    if (run) await run();
    const mail = await pending;
    return codeOf(mail);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export function codeOf(mail: ReceivedMail): string {
  const m = mail.text.match(/code is: (\d{3})-(\d{3})/);
  if (!m) throw new Error(`no code in mail: ${mail.subject}`);
  return m[1]! + m[2]!;
}
