// An independent RFC 4226 HOTP / RFC 6238 TOTP on node:crypto alone, to check the server's codes
// against (the server uses the otpauth package), and a base32 (RFC 4648) decoder for its secrets.
import { createHmac } from 'node:crypto';

export function hotp(key: Uint8Array, counter: number, digits = 6, hash = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(hash, key).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f; // RFC 4226 §5.3 dynamic truncation
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The code for a moment given in milliseconds (T0 = 0, X = 30 s unless told). */
export function totp(key: Uint8Array, ms: number, digits = 6, hash = 'sha1', period = 30): string {
  return hotp(key, Math.floor(ms / 1000 / period), digits, hash);
}

export function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of text.replace(/=+$/, '').toUpperCase()) {
    const value = alphabet.indexOf(ch);
    if (value < 0) throw new Error(`not base32: ${ch}`);
    bits += value.toString(2).padStart(5, '0');
  }
  const bytes = bits.match(/.{8}/g) ?? [];
  return Buffer.from(bytes.map((b) => Number.parseInt(b, 2)));
}
