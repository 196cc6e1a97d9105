// Token forging for the hostile-token suite: compact JWS built by hand, so a row can put anything in
// any segment (arrays, NUL bytes, raw JSON) that a JOSE library would refuse to produce.
import { createHmac } from 'node:crypto';
import type { CryptoKey } from 'jose';

export type Json = Record<string, unknown>;

export function b64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/** A segment: the base64url of the JSON text of any value (object, array, number…). */
export function seg(value: unknown): string {
  return b64url(JSON.stringify(value));
}

export function decodeSeg(segment: string): Json {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Json;
}

/** The three segments of a compact JWS. */
export function parts(token: string): [string, string, string] {
  const [h = '', p = '', s = ''] = token.split('.');
  return [h, p, s];
}

/** A copy of `base` with `changes` applied; a change to `undefined` removes the member. */
export function patch(base: Json, changes: Json): Json {
  const out: Json = { ...base, ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete out[key];
  return out;
}

/** ES256 over already-encoded segments: WebCrypto's ECDSA output is the JWS R‖S form. */
export async function es256Segments(
  key: CryptoKey,
  header: string,
  payload: string,
): Promise<string> {
  const input = `${header}.${payload}`;
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    key,
    new TextEncoder().encode(input),
  );
  return `${input}.${b64url(new Uint8Array(signature))}`;
}

export function es256(key: CryptoKey, header: unknown, payload: unknown): Promise<string> {
  return es256Segments(key, seg(header), seg(payload));
}

/** HS256 with any bytes as the secret (the key-confusion rows use a public key here). */
export function hs256(secret: string | Uint8Array, header: unknown, payload: unknown): string {
  const input = `${seg(header)}.${seg(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Replace the character at `index` of a segment (keeps its length, so only the alphabet is wrong). */
export function spoil(segment: string, index: number, char: string): string {
  return segment.slice(0, index) + char + segment.slice(index + 1);
}

/** The `=` padding base64 would add: base64url in JWS must omit it (RFC 7515 §2). */
export function padded(segment: string): string {
  const missing = (4 - (segment.length % 4)) % 4;
  // A segment whose length is a multiple of 4 takes no padding; a full pad block is still illegal.
  return segment + '='.repeat(missing === 0 ? 4 : missing);
}
