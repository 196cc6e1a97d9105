// Who the passkeys belong to: the relying-party id (the host of PUBLIC_URL, or WEBAUTHN_RP_ID) and the
// one origin whose ceremonies are accepted (PUBLIC_URL's). An IP-address host switches passkeys off.
import { isIP } from 'node:net';
import type { Config } from '../../config/index.ts';
import { AppError } from '../../errors/index.ts';

export type RelyingParty =
  | { enabled: true; id: string; name: string; origin: string }
  | { enabled: false; reason: string };

type RpSettings = Pick<Config, 'publicUrl' | 'webauthnRpId' | 'webauthnRpName'>;

export function relyingParty(config: RpSettings): RelyingParty {
  const url = new URL(config.publicUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  // Browsers refuse WebAuthn on an IP-address origin (an RP id must be a domain): off, with a reason.
  if (isIP(host) !== 0) {
    return {
      enabled: false,
      reason: `passkeys are off: PUBLIC_URL's host ${host} is an IP address, where browsers refuse WebAuthn; set PUBLIC_URL to a host name (for example http://localhost:${url.port || '8000'}) to turn them on`,
    };
  }
  return {
    enabled: true,
    id: config.webauthnRpId ?? host,
    name: config.webauthnRpName,
    // Only PUBLIC_URL's own origin: a ceremony run on any other page (a phishing copy) is refused.
    origin: url.origin,
  };
}

/** The relying party, or 404 passkeys_disabled when PUBLIC_URL cannot have one. */
export function requireRelyingParty(config: RpSettings): Extract<RelyingParty, { enabled: true }> {
  const rp = relyingParty(config);
  if (!rp.enabled) {
    throw new AppError(
      'passkeys_disabled',
      'Passkeys are not available on this server (PUBLIC_URL has an IP address for its host).',
    );
  }
  return rp;
}

/** A start-up warning when passkeys are off, or would not work in browsers; undefined when fine. */
export function relyingPartyWarning(config: RpSettings): string | undefined {
  const rp = relyingParty(config);
  if (!rp.enabled) return rp.reason;
  const url = new URL(rp.origin);
  const local = url.hostname === 'localhost' || url.hostname.endsWith('.localhost');
  if (url.protocol === 'http:' && !local) {
    return `passkeys need a secure origin: browsers refuse WebAuthn on ${rp.origin}; serve PUBLIC_URL over https`;
  }
  return undefined;
}
