// buildApp(config, deps): the whole server. The CLI's `serve` only calls it and listens; tests build
// it with a temporary data directory and an injected clock.
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { openRuntime } from '../app/index.ts';
import { runWithRequestContext } from '../auth/audit/index.ts';
import { relyingPartyWarning } from '../auth/passkeys/index.ts';
import type { Services } from '../auth/services.ts';
import type { Config } from '../config/index.ts';
import { AppError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import { createGuards } from './authenticate.ts';
import { jsonBodies } from './body-parsers.ts';
import { sendProblem, toAppError } from './errors.ts';
import { rejectNulCharacters } from './input.ts';
import { serializeRequest } from './log-redaction.ts';
import { observeRequests } from './metrics.ts';
import { rateLimitHook } from './rate-limit.ts';
import { routes } from './routes/index.ts';
import { sharedSchemas } from './schemas.ts';
import { securityPlugin } from './security-headers.ts';

export interface AppDeps {
  /** A store of the caller's, used as is (else DATABASE_URL is opened and migrated). */
  store?: Store;
  clock?: () => number;
  /** A pino logger option or instance; defaults to JSON logs at LOG_LEVEL. */
  logger?: FastifyServerOptions['logger'];
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

export const BODY_LIMIT = 1024 * 1024;

function trustProxy(value: string | undefined): FastifyServerOptions['trustProxy'] {
  // Without TRUST_PROXY the socket address is the client: X-Forwarded-For is ignored.
  if (value === undefined) return false;
  return value.split(/[\s,]+/).filter(Boolean);
}

function loggerOptions(
  config: Config,
  given: FastifyServerOptions['logger'],
): FastifyServerOptions['logger'] {
  if (given === false) return false;
  const options =
    given === undefined || given === true
      ? {
          level: config.logLevel,
          redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
        }
      : given;
  // Whatever logger is asked for: a URL's query may carry a token (an old mailed link, a callback).
  return { ...options, serializers: { ...options.serializers, req: serializeRequest } };
}

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  let logKvError = (_error: Error): void => {};
  const runtime = await openRuntime(config, {
    store: deps.store,
    clock: deps.clock,
    onKvError: (error) => logKvError(error),
  });
  const { services } = runtime;

  const app = Fastify({
    logger: loggerOptions(config, deps.logger),
    bodyLimit: BODY_LIMIT,
    trustProxy: trustProxy(config.trustProxy),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 512 },
    // Malformed URLs (bad percent-escapes, over-long parameters) are answered like every other error.
    frameworkErrors: (error, request, reply) => {
      sendProblem(reply, toAppError(error, request));
    },
    ajv: {
      // Wrong types are errors, not silently coerced; unknown fields are dropped, never honoured.
      customOptions: {
        coerceTypes: false,
        removeAdditional: true,
        allErrors: true,
        useDefaults: false,
      },
    },
  });
  logKvError = (error) => app.log.warn({ err: error }, 'redis connection error');
  // Said once at start-up: an IP-address PUBLIC_URL turns passkeys off (browsers refuse WebAuthn there).
  const passkeyWarning = relyingPartyWarning(config);
  if (passkeyWarning !== undefined) app.log.warn(passkeyWarning);
  app.decorate('services', services);
  app.decorateRequest('caller', null);
  // Audit entries written while serving a request name its client address and agent.
  app.addHook('onRequest', (request, _reply, done) => {
    const agent = request.headers['user-agent'];
    runWithRequestContext(
      {
        ip: request.ip ?? null,
        userAgent: agent ?? null,
        onAudit: (type) => runtime.metrics.audit(type),
      },
      done,
    );
  });
  services.mailer.useLog(app.log.child({ component: 'mail' }));
  services.identityProviders.start(app.log.child({ component: 'identity-providers' }));
  app.addHook('onClose', () => runtime.close());

  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error, request);
    // A 503 "try again shortly" (an outage, a busy sign-in slot) is a warning, not a defect; a raw
    // backend error was already logged as one by toAppError.
    if (appError.code === 'temporarily_unavailable') {
      if (error === appError) request.log.warn({ err: error }, 'temporarily unavailable');
    } else if (appError.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    }
    return sendProblem(reply, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new AppError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );

  // First, so that every answer (errors and 404s included) carries the headers.
  await app.register(securityPlugin, { config });
  jsonBodies(app);
  app.addHook('preValidation', rejectNulCharacters);
  await app.register(cookie);
  for (const schema of sharedSchemas) app.addSchema(schema);
  await app.register(swagger, openApiOptions(config));
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { persistAuthorization: false, tryItOutEnabled: true },
    // The docs page calls the server it was loaded from, whatever PUBLIC_URL says (OpenAPI allows a
    // relative server URL), so "Try it out" and Authorize never go to another host.
    transformSpecification: (spec: Record<string, unknown>) => ({
      ...spec,
      servers: [{ url: '/' }],
    }),
  });
  observeRequests(app, runtime.metrics);
  // Before the routes: every route that names a policy in `config.rateLimit` is counted.
  app.addHook('onRequest', rateLimitHook(services));
  await app.register(routes, {
    services,
    guards: createGuards(services),
    metrics: runtime.metrics,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

function openApiOptions(config: Config) {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Portcullis',
        version: '0.1.0',
        description:
          'JWT authentication server. Click **Authorize**, enter a username and password (leave the client fields empty), then try `GET /users/me`.',
      },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: {
          oauth2: {
            type: 'oauth2' as const,
            flows: {
              password: {
                tokenUrl: '/token',
                refreshUrl: '/token',
                scopes: Object.fromEntries(config.scopes.map((s) => [s, `the ${s} scope`])),
              },
            },
          },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json: { $id?: unknown }, _base: unknown, _frag: unknown, i: number) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  };
}
