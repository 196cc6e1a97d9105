// Everything the rules need, built once per server from the configuration and the store.
import type { Config } from '../config/index.ts';
import { createPasswordHasher, type PasswordHasher } from '../crypto/passwords.ts';
import type { Store } from '../store/index.ts';
import { type AccessTokens, createAccessTokens } from '../tokens/access-token.ts';
import { type KeyRing, openKeyRing } from '../tokens/keys.ts';
import { createRefreshTokenCodec, type RefreshTokenCodec } from '../tokens/refresh.ts';
import { createRevocationList, type RevocationList } from '../tokens/revocation.ts';

export interface Services {
  config: Config;
  store: Store;
  clock: () => number;
  hasher: PasswordHasher;
  keys: KeyRing;
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokenCodec;
  revocations: RevocationList;
  close(): void;
}

export interface ServiceDeps {
  store: Store;
  /** Milliseconds since the epoch; tests inject their own. */
  clock?: () => number;
}

export async function createServices(config: Config, deps: ServiceDeps): Promise<Services> {
  const clock = deps.clock ?? Date.now;
  const { store } = deps;
  const keys = await openKeyRing({
    store,
    algorithm: config.algorithm,
    secretKey: config.secretKey,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    clock,
  });
  const revocations = createRevocationList({
    store,
    clock,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    pollMs: config.revocationPollMs,
  });
  await revocations.start();
  const keyTimer = setInterval(() => {
    keys.reload().catch(() => {
      // Keep the keys we have; the next tick tries again.
    });
  }, config.keysReloadSeconds * 1000);
  keyTimer.unref();
  return {
    config,
    store,
    clock,
    hasher: createPasswordHasher({
      memoryCost: config.passwordHashMemoryKib,
      timeCost: config.passwordHashTimeCost,
      parallelism: config.passwordHashParallelism,
    }),
    keys,
    accessTokens: createAccessTokens({
      algorithm: config.algorithm,
      issuer: config.issuer,
      audience: config.audience,
      ttlSeconds: config.accessTokenTtlSeconds,
      keys,
      revocations,
      clock,
      verifiedCacheSize: config.verifiedTokenCacheSize,
    }),
    refreshTokens: createRefreshTokenCodec(config.secretKey, config.refreshSecretKey),
    revocations,
    close() {
      clearInterval(keyTimer);
      revocations.stop();
    },
  };
}
