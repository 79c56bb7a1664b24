// Passwords travel as their SHA-256 hex digest (Meteor's convention, spec §1), so the
// plaintext never leaves the client. Web Crypto exists in browsers and in Node ≥ 19.

export async function sha256Hex(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}
