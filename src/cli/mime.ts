// Just enough MIME (RFC 2045-2047) to read the outbox's own mails: headers with encoded
// words, multipart bodies, quoted-printable and base64. The raw .eml soft-wraps long lines
// with "=" and escapes "=" as "=3D", which breaks verification links and hides the code.

export interface DecodedMail {
  /** Header names in lower case, values unfolded and decoded. */
  headers: Map<string, string>;
  /** The first text/plain part that is not an attachment, decoded; null when there is none. */
  text: string | null;
}

/** Nesting deeper than this is not a mail Twofold wrote. */
const MAX_DEPTH = 5;

function splitHead(raw: string): { head: string; body: string } {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return { head: raw, body: '' };
  return { head: raw.slice(0, m.index), body: raw.slice(m.index + m[0].length) };
}

function decodeBytes(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset || 'utf-8').decode(bytes);
  } catch {
    // An unknown charset label: UTF-8 shows ASCII right, which is what our mails are.
    return new TextDecoder('utf-8').decode(bytes);
  }
}

function latin1Bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

export function decodeQuotedPrintable(s: string): Buffer {
  const unwrapped = s.replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < unwrapped.length; i++) {
    const c = unwrapped[i]!;
    const hex = unwrapped.slice(i + 1, i + 3);
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      out.push(unwrapped.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** RFC 2047 encoded words, e.g. `=?UTF-8?Q?Zo=C3=AB?=`; whitespace between two of them is dropped. */
export function decodeEncodedWords(value: string): string {
  const word = /=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g;
  return value.replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?[^?]+\?[QqBb]\?[^?]*\?=)/g, '$1')
    .replace(word, (_, charset: string, enc: string, text: string) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQuotedPrintable(text.replace(/_/g, ' '));
      return decodeBytes(bytes, charset.split('*')[0]!);
    });
}

export function parseHeaders(head: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    // Raw 8-bit header text (an address with "å") is UTF-8, as nodemailer writes it.
    const value = decodeBytes(latin1Bytes(line.slice(colon + 1).trim()), 'utf-8');
    if (!headers.has(name)) headers.set(name, decodeEncodedWords(value));
  }
  return headers;
}

/** `text/plain; charset="utf-8"` → type and lower-case parameters. */
function parseContentType(value: string | undefined): { type: string; params: Map<string, string> } {
  const [type = 'text/plain', ...rest] = (value ?? 'text/plain').split(';');
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return { type: type.trim().toLowerCase(), params };
}

function decodeBody(body: string, encoding: string | undefined): Buffer {
  switch ((encoding ?? '7bit').trim().toLowerCase()) {
    case 'base64': return Buffer.from(body.replace(/\s+/g, ''), 'base64');
    case 'quoted-printable': return decodeQuotedPrintable(body);
    default: return latin1Bytes(body);
  }
}

function splitMultipart(body: string, boundary: string): string[] {
  const parts: string[] = [];
  let current: string[] | null = null;
  for (const line of body.split(/\r?\n/)) {
    if (line === `--${boundary}--`) break;
    if (line === `--${boundary}`) {
      if (current) parts.push(current.join('\n'));
      current = [];
    } else if (current) {
      current.push(line);
    }
  }
  if (current) parts.push(current.join('\n'));
  return parts;
}

function findText(head: Map<string, string>, body: string, depth: number): string | null {
  const { type, params } = parseContentType(head.get('content-type'));
  if (type.startsWith('multipart/')) {
    const boundary = params.get('boundary');
    if (!boundary || depth >= MAX_DEPTH) return null;
    for (const part of splitMultipart(body, boundary)) {
      const { head: partHead, body: partBody } = splitHead(part);
      const found = findText(parseHeaders(partHead), partBody, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  if (type !== 'text/plain' || /^\s*attachment/i.test(head.get('content-disposition') ?? '')) return null;
  return decodeBytes(decodeBody(body, head.get('content-transfer-encoding')), params.get('charset') ?? 'utf-8');
}

/** `raw` is the file read as latin1, so that every byte survives until its charset is known. */
export function decodeMail(raw: string): DecodedMail {
  const { head, body } = splitHead(raw);
  const headers = parseHeaders(head);
  return { headers, text: findText(headers, body, 0) };
}
