// A route is its schemas and its handler, kept together in a group file under routes/; where it is
// mounted, who may call it and what budget it draws on are said once, in routes/index.ts.
import type {
  FastifyInstance,
  FastifySchema,
  preHandlerAsyncHookHandler,
  preValidationHookHandler,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from 'fastify';
import type { Services } from '../auth/services.ts';
import type { RateLimitPolicy } from './rate-limit.ts';

/** A handler whose request is typed by `RG` (Body, Params, Querystring). */
export type Handler<RG extends RouteGenericInterface> = RouteHandlerMethod<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  RG
>;

export interface Route<RG extends RouteGenericInterface = RouteGenericInterface> {
  /** Request and response schemas; they are also the OpenAPI document. */
  schema: FastifySchema;
  /** Runs before the body is validated: for checks that must answer before a 400 would. */
  preValidation?: preValidationHookHandler;
  /** Made once per server, with the services it calls. */
  handler(s: Services): Handler<RG>;
}

/** A route whose handler sees the body, params and query its schema guarantees (`RG`). */
export function route<RG extends RouteGenericInterface = RouteGenericInterface>(
  definition: Route<RG>,
): Route<RG> {
  return definition;
}

export interface Mount {
  /** Who may call: runs before the handler, after validation. */
  guard?: preHandlerAsyncHookHandler;
  /** The rate-limit budget the route draws on, per client address. */
  limit?: RateLimitPolicy;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type Add = <RG extends RouteGenericInterface>(url: string, mount: Mount, r: Route<RG>) => void;

/** Mounts routes on `app` (its hooks, parsers and error handler apply to them). */
export function router(
  app: FastifyInstance,
  s: Services,
): { get: Add; post: Add; patch: Add; delete: Add } {
  const add =
    (method: Method): Add =>
    <RG extends RouteGenericInterface>(url: string, mount: Mount, r: Route<RG>): void => {
      app.route<RG>({
        method,
        url,
        schema: r.schema,
        ...(mount.limit === undefined ? {} : { config: { rateLimit: mount.limit } }),
        ...(r.preValidation === undefined ? {} : { preValidation: r.preValidation }),
        ...(mount.guard === undefined ? {} : { preHandler: mount.guard }),
        handler: r.handler(s),
      });
    };
  return { get: add('GET'), post: add('POST'), patch: add('PATCH'), delete: add('DELETE') };
}
