// The HTTP side of the metrics: every answer counted by its route's pattern (never the raw path, so
// the label set stays bounded), and GET /metrics, answered to METRICS_TOKEN or to loopback only.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../auth/services.ts';
import { constantTimeEqual } from '../crypto/random.ts';
import { AuthenticationError, PermissionError } from '../errors/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { bearerToken } from './authenticate.ts';
import { refusedByRateLimit } from './rate-limit.ts';
import { type Route, route } from './route.ts';

const REFRESH_ROUTES = new Set(['/refresh', '/session/refresh']);
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

function isRefresh(request: FastifyRequest, pattern: string): boolean {
  if (REFRESH_ROUTES.has(pattern)) return true;
  const body = request.body as { grant_type?: unknown } | undefined;
  return pattern === '/token' && body?.grant_type === 'refresh_token';
}

export function observeRequests(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    // Unmatched paths share one label: a scan of random URLs cannot grow the series.
    const pattern = request.routeOptions.url ?? '(unmatched)';
    const status = reply.statusCode;
    metrics.request(pattern, request.method, status, reply.elapsedTime / 1000);
    if (isRefresh(request, pattern)) {
      metrics.refresh(status < 400 ? 'success' : status >= 500 ? 'error' : 'refused');
    }
    const policy = request.routeOptions.config.rateLimit;
    if (policy !== undefined && refusedByRateLimit.has(request)) metrics.rateLimited(policy);
    done();
  });
}

function requireMetricsAccess(s: Services, request: FastifyRequest): void {
  const expected = s.config.metricsToken;
  if (expected === undefined) {
    // The socket's peer, not X-Forwarded-For: a proxy in front must not turn the world into loopback.
    const peer = request.socket.remoteAddress ?? '';
    if (!LOOPBACK.test(peer)) {
      throw new PermissionError(
        'Metrics are served to loopback clients unless METRICS_TOKEN is set.',
      );
    }
    return;
  }
  const token = bearerToken(request);
  if (token === undefined || token === '')
    throw new AuthenticationError('The metrics token is required.', token === '');
  if (!constantTimeEqual(token, expected))
    throw new AuthenticationError('The metrics token is wrong.', true);
}

export function metricsRoute(metrics: Metrics): Route {
  return route({
    schema: {
      tags: ['health'],
      summary: 'Prometheus metrics (METRICS_TOKEN as a bearer token, or loopback clients)',
      response: { 200: { type: 'string', description: 'Prometheus text format 0.0.4' } },
    },
    handler: (s) => async (request: FastifyRequest, reply: FastifyReply) => {
      requireMetricsAccess(s, request);
      const body = await metrics.registry.metrics();
      return reply
        .type(metrics.registry.contentType)
        .header('cache-control', 'no-store')
        .send(body);
    },
  });
}
