// The rules' services, built once per process from the configuration and the store: the key ring,
// the kv, the revocation list and its poll, the mailer, and the timers that keep them current.
import { createIdentityProviders } from '../auth/identity-providers/index.ts';
import type { Services } from '../auth/services.ts';
import { CLIENT_SESSION_PREFIX, startHousekeeping } from '../auth/sessions/index.ts';
import type { Config } from '../config/index.ts';
import { hashSlots } from '../crypto/hash-slots.ts';
import { createPasswordHasher, type PasswordHasher } from '../crypto/passwords.ts';
import { createSecretRing } from '../crypto/secret-ring.ts';
import { openKv } from '../kv/index.ts';
import { createMailer } from '../mail/mailer.ts';
import type { Metrics } from '../metrics/index.ts';
import type { Store } from '../store/index.ts';
import { createAccessTokens } from '../tokens/access-token.ts';
import { openKeyRing } from '../tokens/keys.ts';
import { createLiveSessions, type StoredSession } from '../tokens/live-sessions.ts';
import { createRefreshTokenCodec } from '../tokens/refresh.ts';
import { createRevocationList } from '../tokens/revocation.ts';

export interface ServiceDeps {
  store: Store;
  /** Milliseconds since the epoch; tests inject their own. */
  clock?: (() => number) | undefined;
  /** Told about Redis connection trouble (failed commands are reported where they fail). */
  onKvError?: ((error: Error) => void) | undefined;
  /** Times the password hasher and reads its queue (GET /metrics). */
  metrics?: Metrics | undefined;
}

export async function createServices(config: Config, deps: ServiceDeps): Promise<Services> {
  const clock = deps.clock ?? Date.now;
  const { store } = deps;
  const secrets = createSecretRing(config.secretKey, config.previousSecretKeys);
  const keys = await openKeyRing({
    store,
    algorithm: config.algorithm,
    secretKey: config.secretKey,
    previousSecretKeys: config.previousSecretKeys,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    clock,
    // On stderr, once per key: the operator should restore PREVIOUS_SECRET_KEYS or let it be replaced.
    onUnreadableKey: (message) =>
      process.emitWarning(message, { code: 'PORTCULLIS_UNREADABLE_SIGNING_KEY' }),
  });
  const kv = await openKv(config, clock, deps.onKvError);
  const liveSessions = createLiveSessions({
    find: (id) =>
      id.startsWith(CLIENT_SESSION_PREFIX)
        ? machineSession(store, id)
        : store.sessions.findById(id),
    clock,
    maxEntries: config.liveSessionCacheSize,
    maxAgeMs: config.accessTokenTtlSeconds * 1000,
  });
  const revocations = createRevocationList({
    store,
    clock,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    pollMs: config.revocationPollMs,
    kv,
    onApply: (entries) => liveSessions.forget(entries),
  });
  try {
    await revocations.start();
  } catch (error) {
    await kv.close();
    throw error;
  }
  const mailer = createMailer({
    smtpUrl: config.smtpUrl,
    dataDir: config.dataDir,
    from: config.mailFrom,
  });
  const keyTimer = setInterval(() => {
    keys.reload().catch(() => {
      // Keep the keys we have; the next tick tries again.
    });
  }, config.keysReloadSeconds * 1000);
  keyTimer.unref();
  const stopHousekeeping = startHousekeeping(store, clock);
  // Discovery starts with the server (buildApp), not here: offline commands never contact providers.
  const identityProviders = createIdentityProviders(config.identityProviders);
  return {
    config,
    store,
    clock,
    secrets,
    hasher: timedHasher(
      createPasswordHasher({
        memoryCost: config.passwordHashMemoryKib,
        timeCost: config.passwordHashTimeCost,
        parallelism: config.passwordHashParallelism,
      }),
      deps.metrics,
    ),
    keys,
    accessTokens: createAccessTokens({
      algorithm: config.algorithm,
      issuer: config.issuer,
      audience: config.audience,
      ttlSeconds: config.accessTokenTtlSeconds,
      keys,
      revocations,
      liveSessions,
      clock,
      verifiedCacheSize: config.verifiedTokenCacheSize,
    }),
    refreshTokens: createRefreshTokenCodec(secrets, config.refreshSecretKey),
    revocations,
    kv,
    mailer,
    identityProviders,
    async close() {
      clearInterval(keyTimer);
      identityProviders.stop();
      stopHousekeeping();
      revocations.stop();
      // Mail being composed still reads the store; closing twice is harmless (app.ts closes it first).
      await mailer.close();
      await kv.close();
    },
  };
}

/** A client_credentials token's sid stands for its client: live while the client is registered. */
async function machineSession(store: Store, sid: string): Promise<StoredSession | undefined> {
  const clientId = sid.slice(CLIENT_SESSION_PREFIX.length);
  const client = await store.clients.findById(clientId);
  return (
    client && { userId: client.clientId, expiresAt: Number.POSITIVE_INFINITY, revokedAt: null }
  );
}

/** The hasher, each call timed (queue wait included) for the metrics. */
function timedHasher(hasher: PasswordHasher, metrics: Metrics | undefined): PasswordHasher {
  if (!metrics) return hasher;
  metrics.watchHashQueue(() => hashSlots().waiting);
  const timed =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = performance.now();
      try {
        return await fn(...args);
      } finally {
        metrics.passwordHash((performance.now() - start) / 1000);
      }
    };
  return {
    hash: timed((password: string) => hasher.hash(password)),
    verify: timed((hash: string, password: string) => hasher.verify(hash, password)),
    verifyDummy: timed((password: string) => hasher.verifyDummy(password)),
    needsRehash: (hash) => hasher.needsRehash(hash),
  };
}
