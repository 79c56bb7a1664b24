import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { decodeMail } from './mime.ts';

/** The bytes of a mail as the outbox writes them (nodemailer's stream transport). */
async function built(message: { subject: string; text: string; html?: string; to?: string; textEncoding?: 'base64' | 'quoted-printable' }): Promise<string> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const info = await transport.sendMail({ from: 'Twofold <no-reply@twofold.local>', to: message.to ?? 'a@example.com', ...message });
  return (info.message as Buffer).toString('latin1');
}

describe('reading the outbox mails', () => {
  it('joins quoted-printable soft breaks and unescapes "=", so a long link is whole again', async () => {
    const link = `http://127.0.0.1:3000/verify-email?token=${'a1'.repeat(60)}`;
    const raw = await built({ subject: 'Verify your email address', text: `Open this link:\n${link}\n`, html: `<a href="${link}">x</a>` });
    assert.match(raw, /=3D/, 'the raw mail is encoded');
    const mail = decodeMail(raw);
    assert.equal(mail.text, `Open this link:\n${link}\n`);
    assert.equal(mail.headers.get('subject'), 'Verify your email address');
  });

  it('decodes UTF-8 in encoded-word headers, raw headers and base64 bodies', async () => {
    const subject = `Code für Zoë ${'x'.repeat(70)}`;
    const raw = await built({ subject, to: 'zoë@example.com', text: 'Grüße, Zoë\nYour code is: 123-456', textEncoding: 'base64' });
    assert.match(raw, /Subject: =\?UTF-8\?/);
    const mail = decodeMail(raw);
    assert.equal(mail.headers.get('subject'), subject);
    assert.equal(mail.headers.get('to'), 'zoë@example.com');
    assert.equal(mail.text, 'Grüße, Zoë\nYour code is: 123-456');
  });

  it('a mail without a text part has none', async () => {
    const raw = 'Subject: x\nContent-Type: text/html\n\n<p>hi</p>\n';
    assert.equal(decodeMail(raw).text, null);
  });
});
