// The kid of an HS256 secret, shared by the server's key ring (tokens/keys.ts) and the guard, so
// that both pick the secret a token names among the current and previous ones without trying each.
import { createHash } from 'node:crypto';

/** Names the secret without revealing it: a truncated SHA-256 of a key of 256 bits or more. */
export function hmacKeyId(secret: Uint8Array): string {
  return `hs256-${createHash('sha256').update(secret).digest('base64url').slice(0, 12)}`;
}
