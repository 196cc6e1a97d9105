// Rate limits per client address. A route opts in with `config: { rateLimit: 'login' }`;
// one onRequest hook counts the request in the kv (shared by every instance with Redis) under the
// policy and the address, answers with the IETF draft RateLimit-* headers, and refuses with 429
// and Retry-After once the window's budget is spent. Routes naming one policy share its budget.
// Hand-written, not @fastify/rate-limit: ours counts in our kv (memory or Redis, shared by instances)
// on the injected clock, buckets IPv6 by /64, sends RateLimit-Policy and fails open with a log; the
// plugin would need a store adapter, a key generator and an error builder to do the same.
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Services } from '../auth/services.ts';
import type { RateLimit, Settings } from '../config/settings.ts';
import { AppError } from '../errors/index.ts';

export type RateLimitPolicy =
  | 'token'
  | 'login'
  | 'refresh'
  | 'register'
  | 'password'
  | 'totp'
  | 'authorize'
  | 'passkey';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The budget this route draws on, per client address (RATE_LIMIT_<POLICY>). */
    rateLimit?: RateLimitPolicy;
  }
}

const SETTING: Record<RateLimitPolicy, keyof Settings> = {
  token: 'rateLimitToken',
  login: 'rateLimitLogin',
  refresh: 'rateLimitRefresh',
  register: 'rateLimitRegister',
  password: 'rateLimitPassword',
  totp: 'rateLimitTotp',
  authorize: 'rateLimitAuthorize',
  passkey: 'rateLimitPasskey',
};

export function policyLimit(s: Services, policy: RateLimitPolicy): RateLimit {
  return s.config[SETTING[policy]] as RateLimit;
}

/**
 * The bucket of a client address: an IPv4 address itself, an IPv6 address's /64 (one subscriber's
 * usual allocation, so rotating through it does not earn new budgets).
 */
export function addressBucket(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.split('%')[0]?.split('::') ?? [];
  const left = head === '' ? [] : head.split(':');
  const right = ip.includes('::') && tail !== '' ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  const prefix = groups.slice(0, 4).map((g) => (Number.parseInt(g, 16) || 0).toString(16));
  return `${prefix.join(':')}::/64`;
}

function setHeaders(reply: FastifyReply, limit: RateLimit, remaining: number, reset: number): void {
  reply.header('ratelimit-limit', String(limit.max));
  reply.header('ratelimit-remaining', String(remaining));
  reply.header('ratelimit-reset', String(reset));
  reply.header('ratelimit-policy', `${limit.max};w=${limit.windowSeconds}`);
}

/** Requests this hook refused (the metrics count them by policy). */
export const refusedByRateLimit = new WeakSet<FastifyRequest>();

export function rateLimitHook(s: Services): onRequestAsyncHookHandler {
  return async function rateLimit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const policy = request.routeOptions.config.rateLimit;
    if (policy === undefined) return;
    const limit = policyLimit(s, policy);
    const windowMs = limit.windowSeconds * 1000;
    const now = s.clock();
    // Windows are read from the server's clock, so every instance counts in the same one.
    const window = Math.floor(now / windowMs);
    // request.ip is the socket's address unless TRUST_PROXY names the peer (then X-Forwarded-For).
    const key = `ratelimit:${policy}:${addressBucket(request.ip)}:${window}`;
    let count: number;
    try {
      count = (await s.kv.incr(key, windowMs)).count;
    } catch (error) {
      // Counters unreachable: serve rather than refuse everyone; the account lockout still guards
      // passwords (it fails closed).
      request.log.warn({ err: error }, 'rate limit not applied: kv unavailable');
      return;
    }
    const reset = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
    setHeaders(reply, limit, Math.max(0, limit.max - count), reset);
    if (count > limit.max) {
      refusedByRateLimit.add(request);
      throw new AppError(
        'rate_limited',
        `Too many requests from this address; try again in ${reset} seconds.`,
        { retryAfter: reset },
      );
    }
  };
}
