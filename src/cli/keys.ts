// `portcullis keys rotate|list|reseal`.
import { resealAllTotpSecrets } from '../auth/second-factor/index.ts';
import { isIdTokenAlgorithm, rotateSigningKey } from '../tokens/keys.ts';
import { withServices } from './context.ts';

export async function keys(args: string[]): Promise<number> {
  const [action] = args;
  if (action === 'rotate') {
    return withServices(async (s, config) => {
      const fresh = await rotateSigningKey({
        store: s.store,
        algorithm: config.algorithm,
        secretKey: config.secretKey,
        previousSecretKeys: config.previousSecretKeys,
        accessTokenTtlSeconds: config.accessTokenTtlSeconds,
        clock: s.clock,
      });
      for (const key of fresh) {
        console.log(
          `New signing key ${key.kid} (${key.alg}, ${usesOf(key.alg, config.algorithm)}). Older keys verify until their tokens expire.`,
        );
      }
      return 0;
    });
  }
  if (action === 'list') {
    return withServices(async (s, config) => {
      const published = new Set(s.keys.jwks().keys.map((k) => k.kid));
      const rows = await s.store.signingKeys.list();
      console.log(
        ['kid'.padEnd(44), 'alg'.padEnd(6), 'use'.padEnd(20), 'created'.padEnd(25), 'state'].join(
          ' ',
        ),
      );
      for (const k of rows) {
        const uses = usesOf(k.alg, config.algorithm);
        const state = published.has(k.kid)
          ? k.retiredAt === null
            ? 'signing'
            : 'verifying'
          : uses === 'unused'
            ? 'unused'
            : k.retiredAt === null
              ? 'unreadable'
              : 'expired';
        console.log(
          [
            k.kid.padEnd(44),
            k.alg.padEnd(6),
            uses.padEnd(20),
            new Date(k.createdAt).toISOString().padEnd(25),
            state,
          ].join(' '),
        );
      }
      if (config.algorithm === 'HS256')
        console.log('ALGORITHM=HS256: access tokens are signed with SECRET_KEY.');
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

/** What a key of `alg` signs under the configured ALGORITHM. */
function usesOf(alg: string, configured: string): string {
  if (alg === configured) return isIdTokenAlgorithm(alg) ? 'access+id_token' : 'access';
  // A key of an earlier ALGORITHM that is not an ID-token algorithm signs and verifies nothing.
  return isIdTokenAlgorithm(alg) ? 'id_token' : 'unused';
}
