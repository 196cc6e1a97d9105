// `portcullis keys rotate|list|reseal`.
import { resealAllTotpSecrets } from '../auth/second-factor/index.ts';
import { rotateSigningKey } from '../tokens/keys.ts';
import { withServices } from './context.ts';

export async function keys(args: string[]): Promise<number> {
  const [action] = args;
  if (action === 'rotate') {
    return withServices(async (s, config) => {
      const key = await rotateSigningKey({
        store: s.store,
        algorithm: config.algorithm,
        secretKey: config.secretKey,
        accessTokenTtlSeconds: config.accessTokenTtlSeconds,
        clock: s.clock,
      });
      console.log(
        `New signing key ${key.kid} (${key.alg}). Older keys verify until their tokens expire.`,
      );
      return 0;
    });
  }
  if (action === 'list') {
    return withServices(async (s, config) => {
      const published = new Set(s.keys.jwks().keys.map((k) => k.kid));
      const rows = await s.store.signingKeys.list();
      console.log(['kid'.padEnd(44), 'alg'.padEnd(6), 'created'.padEnd(25), 'state'].join(' '));
      for (const k of rows) {
        const state =
          k.retiredAt === null ? 'signing' : published.has(k.kid) ? 'verifying' : 'expired';
        console.log(
          [
            k.kid.padEnd(44),
            k.alg.padEnd(6),
            new Date(k.createdAt).toISOString().padEnd(25),
            state,
          ].join(' '),
        );
      }
      if (config.algorithm === 'HS256')
        console.log('ALGORITHM=HS256: tokens are signed with SECRET_KEY.');
      return 0;
    });
  }
  if (action === 'reseal') {
    return withServices(async (s) => {
      const report = await resealAllTotpSecrets(s);
      console.log(
        `TOTP secrets: ${report.resealed} re-sealed with SECRET_KEY, ${report.current} already sealed with it, ${report.unreadable.length} unreadable.`,
      );
      for (const id of report.unreadable) {
        const user = await s.store.users.findById(id);
        console.log(
          `  unreadable: ${user?.username ?? id} (portcullis user reset-2fa ${user?.username ?? id})`,
        );
      }
      if (report.unreadable.length === 0 && s.config.previousSecretKeys.length > 0)
        console.log('No TOTP secret needs PREVIOUS_SECRET_KEYS any more.');
      return 0;
    });
  }
  console.error('usage: portcullis keys rotate | keys list | keys reseal');
  return 2;
}
