// The Prometheus families of SPEC §11, through prom-client: one registry per server (tests run many
// in one process), fed by the HTTP layer (requests, latency, rate-limit refusals), the audit trail
// (sign-ins, lockouts, refresh-token reuse), the password hasher and the database.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** One answered request: the route's pattern (never the raw path), method, status, seconds. */
  request(route: string, method: string, status: number, seconds: number): void;
  /** An audit event of the request being served (sign-ins, lockouts, reuse…). */
  audit(type: string): void;
  /** A refresh (any of /token refresh_token, /refresh, /session/refresh) and how it ended. */
  refresh(outcome: 'success' | 'refused' | 'error'): void;
  rateLimited(policy: string): void;
  /** One password hash or verification: seconds from asking to done (queue wait included). */
  passwordHash(seconds: number): void;
  /** One database query, in seconds. */
  query(seconds: number): void;
  /** Password hashes waiting for a slot, read at each scrape. */
  watchHashQueue(depth: () => number): void;
}

const LATENCY = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Sign-in audit types and the outcome label they count as. */
const LOGIN_OUTCOME: Record<string, string> = {
  'login.success': 'success',
  'oauth.code_exchange': 'success',
  'login.failure': 'failure',
  lockout: 'locked',
};

export function createMetrics(): Metrics {
  const registry = new Registry();
  // Process CPU and memory, heap, event-loop lag (nodejs_eventloop_lag_*), GC, handles.
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'portcullis_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'portcullis_http_request_duration_seconds',
    help: 'Time from request to answer, by route pattern and method',
    labelNames: ['route', 'method'],
    buckets: LATENCY,
    registers: [registry],
  });
  const logins = new Counter({
    name: 'portcullis_logins_total',
    help: 'Sign-ins by outcome (success, failure, locked)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const refreshes = new Counter({
    name: 'portcullis_refreshes_total',
    help: 'Refresh-token rotations by outcome (success, refused, error)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const reuse = new Counter({
    name: 'portcullis_refresh_reuse_detections_total',
    help: 'Spent refresh tokens presented again (the session was ended)',
    registers: [registry],
  });
  const lockouts = new Counter({
    name: 'portcullis_lockouts_total',
    help: 'Accounts slowed down after repeated failures',
    registers: [registry],
  });
  const limited = new Counter({
    name: 'portcullis_rate_limit_refusals_total',
    help: 'Requests refused 429 by a rate-limit policy',
    labelNames: ['policy'],
    registers: [registry],
  });
  const hashTime = new Histogram({
    name: 'portcullis_password_hash_duration_seconds',
    help: 'Password hashing and verification, queue wait included',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const queryTime = new Histogram({
    name: 'portcullis_db_query_duration_seconds',
    help: 'Database query time',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });
  const depths: Array<() => number> = [];
  new Gauge({
    name: 'portcullis_password_hash_queue_depth',
    help: 'Password hashes waiting for a free slot',
    registers: [registry],
    collect() {
      this.set(depths.reduce((sum, read) => sum + read(), 0));
    },
  });
  return {
    registry,
    request(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) });
      latency.observe({ route, method }, seconds);
    },
    audit(type) {
      const outcome = LOGIN_OUTCOME[type];
      if (outcome) logins.inc({ outcome });
      if (type === 'refresh.reuse') reuse.inc();
      if (type === 'lockout') lockouts.inc();
    },
    refresh: (outcome) => refreshes.inc({ outcome }),
    rateLimited: (policy) => limited.inc({ policy }),
    passwordHash: (seconds) => hashTime.observe(seconds),
    query: (seconds) => queryTime.observe(seconds),
    watchHashQueue(depth) {
      depths.push(depth);
    },
  };
}
